"""RFC 9457 problem responses for every error, and the X-Request-ID every response carries."""

from __future__ import annotations

import logging
import os
import re

from flask import Flask, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from errors import HTTP_CODES, InvalidRequest, ServiceError
from logs.audit import AUDITED_REFUSALS, audit
from web.body import body_left_unread
from web.context import context

log = logging.getLogger(__name__)

# A tag URI (RFC 4151): stable and unique without pretending to be a page that can be fetched.
PROBLEM_TYPE = "tag:stackone-connect-backend,2026:problem:"
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# An Auth Link of ours (web/views/links.py): its path holds the link's secret.
LINK_PREFIX, LINK_RULE = "/l/", "/l/<secret>"


def request_id() -> str:
    """This request's id: the caller's X-Request-ID when it is safe to echo, else a new one."""
    ctx = context()
    if ctx.request_id is None:
        offered = request.headers.get("X-Request-ID", "")
        # As random as a uuid4, without building a UUID object on every request.
        ctx.request_id = offered if _SAFE_REQUEST_ID.fullmatch(offered) else os.urandom(16).hex()
    return ctx.request_id


def public_path() -> str:
    """The request's path as a problem may echo it: a link's path names its rule, never its secret (the URL is
    the credential)."""
    return LINK_RULE if request.path.startswith(LINK_PREFIX) else request.path


def problem(status: int, code: str, title: str, detail: str, headers=None, **extra):
    """Build an application/problem+json response."""
    body = {
        "type": PROBLEM_TYPE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        "instance": public_path(),
        "requestId": request_id(),
        **extra,
    }
    context().problem_code = code  # counted by metrics (refusals_total{code})
    if code in AUDITED_REFUSALS:
        audit("refused", code=code, status=status)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/problem+json"
    response.headers.update(headers or {})
    return response


def register_problem_handlers(app: Flask) -> None:
    """Route every error (ours, marshmallow's, werkzeug's, and the unexpected) through `problem`."""

    @app.before_request
    def _assign_request_id():
        request_id()

    @app.after_request
    def _stamp(response):
        response.headers["X-Request-ID"] = request_id()
        if body_left_unread():
            # Whatever is left of the body (too large, stalled, malformed, or refused before reading) must not
            # be drained as if it were the next request: say so and close.
            response.headers["Connection"] = "close"
        # Tokens and account lists must never sit in a shared cache.
        response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        return problem(exc.status, exc.code, exc.title, exc.detail, exc.headers, **exc.extra)

    @app.errorhandler(ValidationError)
    def _validation_error(exc: ValidationError):
        err = InvalidRequest("Some fields are missing or invalid; see `errors`")
        return problem(err.status, err.code, err.title, err.detail, errors=exc.normalized_messages())

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        code = HTTP_CODES.get(status, "http_error")
        # Keep headers such as 405's Allow; the body is ours, so drop werkzeug's Content-Type.
        headers = {k: v for k, v in exc.get_headers() if k.lower() != "content-type"}
        return problem(status, code, exc.name, exc.description or exc.name, headers)

    # Registering for Exception keeps Flask from logging its own traceback; we log one safe line.
    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
        log.error("unhandled %s at %s (request %s)", type(exc).__name__, where, request_id())
        return problem(500, "internal_error", "Internal server error",
                       "Something went wrong on our side; quote the request id if you report it")
