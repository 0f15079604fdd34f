"""Prometheus metrics: requests, StackOne calls, decisions, refusals, webhooks; summed over gunicorn's workers.

The counters live here (any layer records into them); web/metrics.py counts requests and serves /metrics.

Under gunicorn, gunicorn.conf.py prepares prometheus-client's multiprocess directory before the workers start and
marks dead workers, so one scrape sees the sum of all workers. /metrics answers only on the METRICS_BIND listener
(a separate, internal socket, told by the socket itself: web/listeners.py), never on the public one; that
listener answers /metrics and /healthz and nothing else. No label carries an owner id, a token or free text.
"""

from __future__ import annotations

import functools

from prometheus_client import Counter, Histogram

from domain.accounts import ACCOUNT_EVENTS

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests answered", ["method", "route", "status"])
HTTP_DURATION = Histogram("http_request_duration_seconds", "Time to answer an HTTP request", ["method", "route"])
STACKONE_REQUESTS = Counter("stackone_requests_total", "Calls to StackOne", ["operation", "outcome"])
STACKONE_DURATION = Histogram("stackone_request_duration_seconds", "Time of one call to StackOne", ["operation"])
DECISIONS = Counter("connect_decisions_total", "Sessions and links minted, by the policy's action", ["action"])
REFUSALS = Counter("refusals_total", "Problem answers, by code", ["code"])
WEBHOOKS = Counter("webhook_events_total", "Verified webhook events, by event and outcome", ["event", "outcome"])
ACCOUNT_CHANGES = Counter("account_state_changes_total", "Account observations applied to our view, by source "
                          "(webhook, reconcile, disconnect, offboard) and outcome (applied, unchanged, stale_dropped, "
                          "inferred_missing)", ["source", "outcome"])
APP_DELIVERIES = Counter("app_webhook_deliveries_total", "Events sent to the customer's app, by outcome (delivered, "
                         "retry, failed: given up after the last attempt)", ["outcome"])
APP_ENDPOINT_PAUSES = Counter("app_webhook_endpoint_paused_total", "Times APP_WEBHOOK_URL answered 410 Gone and "
                              "delivery to it was paused until an operator resumes it")

METHODS = frozenset({"GET", "POST", "DELETE", "OPTIONS", "HEAD", "PUT", "PATCH"})


@functools.cache
def child(metric, *values: str):
    """metric.labels(*values), looked up once per process: labels() checks and locks on every call.

    Unbounded only in name: every label here takes a bounded set of values (routes, methods, codes, operations).
    """
    return metric.labels(*values)


def record_stackone_call(operation: str, outcome: str, seconds: float) -> None:
    """The StackOne client's observer listener: one call, its outcome and its time."""
    child(STACKONE_REQUESTS, operation, outcome).inc()
    child(STACKONE_DURATION, operation).observe(seconds)


def record_account_change(source: str, outcome: str) -> None:
    """One observation of an account, applied (or not) to the connection state."""
    child(ACCOUNT_CHANGES, source, outcome).inc()


def record_delivery(outcome: str, count: int = 1) -> None:
    """Deliveries to the customer's app."""
    if count:
        child(APP_DELIVERIES, outcome).inc(count)


def record_endpoint_paused() -> None:
    """APP_WEBHOOK_URL answered 410 Gone: delivery to it paused."""
    APP_ENDPOINT_PAUSES.inc()


def webhook_event_label(event: object) -> str:
    """A bounded label for an event name: the account events we act on, else "other"."""
    return event if isinstance(event, str) and event in ACCOUNT_EVENTS else "other"
