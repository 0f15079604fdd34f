"""GET /healthz (liveness: the process answers) and GET /readyz (readiness: the shared state answers too; it also
says when delivery of events to APP_WEBHOOK_URL is paused)."""

from flask import Blueprint, jsonify

from errors import StateUnavailable
from services import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """Liveness for load balancers and `make run`; StackOne and Redis are not asked."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Ready when the shared state (Redis, or the state folder) answers; 503 with the reason otherwise."""
    svc = services()
    reason = svc.state.ping()
    if reason:
        response = jsonify({"status": "unavailable", "reason": reason})
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response
    # Still ready (200): the service serves every caller; only the events to the app wait for the operator.
    try:
        paused = svc.endpoint_pause.reason() if svc.endpoint_pause else None
    except StateUnavailable:
        paused = None  # the state failed since its ping: the next probe says so
    return jsonify({"status": "ready", "events": "paused", "eventsReason": paused} if paused else {"status": "ready"})
