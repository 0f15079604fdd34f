"""What a request carries between the web layer's hooks and views, typed: one RequestContext per request (on flask.g
under one name), instead of attributes set on g here and read there."""

from __future__ import annotations

from contextvars import Token
from dataclasses import dataclass

from flask import g, has_request_context, request

from errors import Unauthorized
from identity.owner import Owner
from logs import context as logs_context


@dataclass
class RequestContext:
    """Set by the hooks and views as the request goes; read by the access line, the metrics and the problems."""

    request_id: str | None = None  # web/problems.py: the caller's X-Request-ID when safe, else a new one
    started: float | None = None  # time.perf_counter() when the first hook ran (web/access.py)
    deadline_token: Token | None = None  # web/deadline.py: restores domain.deadline when the request ends
    owner: Owner | None = None  # resolved once from the login (current_owner)
    owner_refused: Unauthorized | None = None  # ... or the refusal, once
    action: str | None = None  # the policy's decision of a mint: create, update, multiple
    problem_code: str | None = None  # the problem answered, if any (refusals_total{code})
    webhook: tuple[str, str] | None = None  # a verified webhook's (event, outcome)
    stackone_seconds: float = 0.0  # time spent waiting for StackOne
    body_read: bool = False  # the body was read to its end (web/body.py)


def context() -> RequestContext:
    """This request's context (made on first use)."""
    found = g.get("request_context")
    if found is None:
        found = g.request_context = RequestContext()
    return found


def request_context() -> RequestContext | None:
    """This request's context, or None outside a request (the CLI, the background loop)."""
    return context() if has_request_context() else None


def tell_the_logs() -> None:
    """Every log line gets this request's id, and an audit line its caller (logs/ knows nothing of Flask)."""
    logs_context.tell(_request_id, _caller)


def _request_id() -> str | None:
    return context().request_id if has_request_context() else None


def _caller() -> dict:
    if not has_request_context():
        return {}
    ctx = context()
    fields = {"owner_id": ctx.owner.id, "username": ctx.owner.username} if ctx.owner is not None else {}
    return {**fields, "route": request.url_rule.rule if request.url_rule else None, "client": request.remote_addr}
