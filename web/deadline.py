"""REQUEST_DEADLINE: when a request's budget starts, and refusing at once a request whose wait in a queue spent it.

The budget starts when the request arrived. Inside a gevent worker a request does not queue for a thread, so the one
wait that can be known is the trusted proxy's: nginx's `X-Request-Start: t=${msec}` says when it received the
request, and everything after that (its queue, gunicorn's listen backlog) counts against the budget.
"""

from __future__ import annotations

import math
import time

from flask import Flask, request

from domain import deadline
from errors import ServiceBusy
from web.context import context, request_context

START_HEADER = "X-Request-Start"
# A start further back than this is a clock or configuration fault, not a queue: it is ignored rather than letting
# it refuse every request.
_PLAUSIBLE_WAIT = 3600.0


def queued_seconds(header: str | None, now: float) -> float:
    """Seconds since the proxy received the request, from `t=<epoch>` in seconds, ms or µs (0 when unknown)."""
    if not header:
        return 0.0
    value = header.strip().removeprefix("t=")
    try:
        started = float(value)
    except ValueError:
        return 0.0
    if not math.isfinite(started) or started <= 0:
        return 0.0
    # The convention (New Relic, Heroku) allows seconds, milliseconds or microseconds: tell them apart by size.
    while started > now * 100:
        started /= 1000
    waited = now - started
    return waited if 0 < waited < _PLAUSIBLE_WAIT else 0.0


def init_deadline(app: Flask, budget: float, trust_proxy: bool) -> None:
    """Give each request its deadline; answer 503 service_busy at once when its time in a queue spent the budget."""

    @app.before_request
    def _admit():
        # Only a proxy the operator declared (TRUSTED_PROXY_COUNT) may say when a request arrived.
        waited = queued_seconds(request.headers.get(START_HEADER), time.time()) if trust_proxy else 0.0
        context().deadline_token = deadline.begin(time.monotonic() - waited + budget)
        # Liveness and readiness are exempt: load must not look like a dead instance and get it restarted.
        if waited >= budget and request.blueprint != "health":
            raise ServiceBusy(
                f"This request waited {waited:.1f} s in a queue, past its {budget:g} s budget; try again shortly.",
                headers={"Retry-After": "1"})

    @app.teardown_request
    def _clear(_exc):
        # Threads (gthread) and greenlets serve one request after another: none inherits the last one's deadline.
        ctx = request_context()
        if ctx is not None and ctx.deadline_token is not None:
            deadline.end(ctx.deadline_token)
            ctx.deadline_token = None
