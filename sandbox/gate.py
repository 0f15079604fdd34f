"""What every request meets around its route: for StackOne's API, the record, latency, Basic auth, the rate limit and
armed faults; for the sandbox's controls, JSON only; for any failure, StackOne's error body (never HTML)."""

from __future__ import annotations

import hmac
import logging
import time

from flask import Flask, request
from werkzeug.exceptions import HTTPException

from sandbox.site import error, site

log = logging.getLogger("sandbox")


def register_gate(app: Flask) -> None:
    """Add the before-request checks (API first, then the controls' JSON rule) and the error handlers."""
    app.before_request(check_api_call)
    app.before_request(controls_take_json_only)
    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(Exception, unexpected)


def is_api(path: str) -> bool:
    """A StackOne API route (Basic auth, recorded, faults apply), not the hub or the sandbox's own controls."""
    return not path.startswith(("/embedded", "/sandbox", "/hub/", "/favicon.ico"))


def check_api_call():
    """Record a StackOne API call, wait any latency asked for, then refuse it as StackOne would, if it would."""
    if not is_api(request.path):
        return None  # the hub and the sandbox's own controls are not StackOne API calls
    project = site().project
    project.calls.append(f"{request.method} {request.path}")
    project.requests.append({"method": request.method, "path": request.path,
                             "query": {k: request.args.getlist(k) for k in request.args},
                             "body": request.get_json(silent=True)})
    if project.latency:
        time.sleep(project.latency)  # a slow StackOne, on request (POST /sandbox/latency)
    if not hmac.compare_digest(request.headers.get("Authorization", ""), site().expected_auth):
        return error(401, "Unauthorized")
    wait = project.throttle(time.time())
    if wait is not None:
        return error(429, "Too many requests", {"Retry-After": str(wait)})
    return armed_fault()


def armed_fault():
    """The answer of a fault armed for this call (after its delay), or None."""
    fault = site().project.take_fault(request.method, request.path)
    if fault is None:
        return None
    if fault["delay"]:
        time.sleep(fault["delay"])
    headers = {"Retry-After": str(fault["retry_after"])} if fault["retry_after"] is not None else {}
    return error(fault["status"], fault["message"], headers)


def controls_take_json_only():
    """Refuse a control POST that is not JSON."""
    # A cross-site page can post a form or text/plain without asking; JSON needs a CORS preflight the sandbox
    # never grants. So no page the developer visits can arm faults or finish a session in their demo.
    if request.path.startswith("/sandbox/") and request.method == "POST" and not request.is_json:
        return error(415, "The sandbox's controls accept JSON only: send Content-Type: application/json")
    return None


def http_error(exc: HTTPException):
    """Unknown routes and methods answer as StackOne's API server does ("Cannot PUT /x", JSON), never HTML."""
    if exc.code in (404, 405):
        return error(404, f"Cannot {request.method} {request.path}")
    return error(exc.code or 500, exc.name)


def unexpected(exc: Exception):
    """A sandbox bug: logged by type, answered with StackOne's 500 body."""
    log.error("sandbox failed on %s %s: %s", request.method, request.path, type(exc).__name__)
    return error(500, "Internal server error")
