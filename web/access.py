"""One access line per request (logger `access`): method, route, status, duration, owner, action, StackOne time.

The route is the URL rule (`/stackone_accounts/<account_id>`), never the raw path, so a client cannot write into it.
This line replaces gunicorn's access log by default (GUNICORN_ACCESSLOG turns that back on).
"""

from __future__ import annotations

import logging
import time

from flask import Flask, request

from domain import deadline
from web.context import context, request_context

log = logging.getLogger("access")


class RequestObserver:
    """The StackOne client's observer: sends the request id along and adds each call's time to the request."""

    def __init__(self) -> None:
        self.listeners: list = []  # more observers of each call (e.g. metrics)

    def headers(self) -> dict[str, str]:
        """X-Request-ID for StackOne, so a support ticket can be matched to StackOne's own logs."""
        ctx = request_context()
        if ctx is not None and ctx.request_id:
            return {"X-Request-ID": ctx.request_id}
        return {}

    def remaining(self) -> float | None:
        """Seconds left of this request's REQUEST_DEADLINE (None outside a request; set by web.deadline)."""
        return deadline.remaining()

    def observed(self, operation: str, outcome: str, seconds: float) -> None:
        """Add the call's time to the request's line, and tell the listeners."""
        ctx = request_context()
        if ctx is not None:
            ctx.stackone_seconds += seconds
        for listener in self.listeners:
            listener(operation, outcome, seconds)


def init_access_log(app: Flask) -> None:
    """Time each request and write its line after the response is made."""

    @app.before_request
    def _start_clock():
        context().started = time.perf_counter()

    @app.after_request
    def _access_line(response):
        ctx = context()
        started, owner = ctx.started, ctx.owner
        fields = {
            "method": request.method,
            "route": request.url_rule.rule if request.url_rule else None,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1) if started else None,
            "owner_id": owner.id if owner is not None else None,
            "action": ctx.action,
            "stackone_ms": round(ctx.stackone_seconds * 1000, 1),
        }
        log.info("%s %s %s", request.method, fields["route"] or "(no route)", response.status_code,
                 extra={"fields": {k: v for k, v in fields.items() if v is not None}})
        return response
