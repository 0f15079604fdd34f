"""Each request counted (route, status, duration, decision, refusal, webhook) and /metrics served, on the metrics
listener only (METRICS_BIND: web/listeners.py tells it by the socket itself)."""

from __future__ import annotations

import os
import time

from flask import Flask, Response, abort, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess

from config import Settings
from metrics import DECISIONS, HTTP_DURATION, HTTP_REQUESTS, METHODS, REFUSALS, WEBHOOKS, child, record_stackone_call
from web.context import context
from web.listeners import METRICS_PATHS, on_metrics_listener


def init_metrics(app: Flask, settings: Settings, listeners: list) -> None:
    """Count every request and StackOne call; serve /metrics on the metrics listener only."""
    listeners.append(record_stackone_call)

    @app.before_request
    def _metrics_listener_serves_only_metrics():
        # The internal listener is for the scraper: the API is not served there, whatever a proxy forwards.
        if on_metrics_listener(request.environ) and request.path not in METRICS_PATHS:
            abort(404)

    @app.after_request
    def _count(response):
        route = request.url_rule.rule if request.url_rule else "unmatched"
        method = request.method if request.method in METHODS else "other"
        child(HTTP_REQUESTS, method, route, str(response.status_code)).inc()
        ctx = context()
        if ctx.started is not None:  # the access line's clock (web/access.py), started before any other hook
            child(HTTP_DURATION, method, route).observe(time.perf_counter() - ctx.started)
        if ctx.action:
            child(DECISIONS, ctx.action).inc()
        if ctx.problem_code:
            child(REFUSALS, ctx.problem_code).inc()
        if ctx.webhook:
            child(WEBHOOKS, *ctx.webhook).inc()
        return response

    @app.get("/metrics")
    def scrape():
        """Prometheus' text format, summed over every worker; 404 anywhere but on METRICS_BIND."""
        if not settings.serving.metrics_bind or not on_metrics_listener(request.environ):
            abort(404)
        registry = CollectorRegistry()
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            multiprocess.MultiProcessCollector(registry)
            body = generate_latest(registry)
        else:
            body = generate_latest()
        return Response(body, mimetype=CONTENT_TYPE_LATEST.split(";")[0], headers={"Cache-Control": "no-store"})
