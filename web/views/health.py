"""GET /healthz (liveness: the process answers) and GET /readyz (readiness: the shared state answers, and StackOne's
address is not known to be wrong; it also says when delivery of events to APP_WEBHOOK_URL is paused)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, jsonify

from errors import StateUnavailable
from extensions import services
from state import SharedState, keys

bp = Blueprint("health", __name__)
# How long one 404 on a route StackOne always serves keeps every host of the fleet not ready: long enough for a
# rollout to stop, short enough that a passing fault at StackOne's end does not hold the fleet out for good.
WRONG_URL_SECONDS = 120


def wrong_url_recorder(state: SharedState, api_url: str) -> Callable[[str], None]:
    """What the StackOne client calls when a route it always serves answers 404: kept for /readyz, fleet-wide."""

    def record(where: str) -> None:
        try:
            state.set(keys.WRONG_URL, {"apiUrl": api_url, "route": where}, ttl=WRONG_URL_SECONDS)
        except StateUnavailable:
            pass  # the state's own outage is what /readyz reports then
    return record


def _wrong_url_reason() -> str | None:
    seen = services().state.get(keys.WRONG_URL)
    # Recorded under another STACKONE_API_URL: a restart with the address fixed is ready at once.
    if not isinstance(seen, dict) or seen.get("apiUrl") != services().settings.stackone.api_url:
        return None
    return (f"StackOne answered 404 on {seen.get('route')}, a route it always serves: STACKONE_API_URL is not "
            "StackOne's API base (https://api.stackone.com, with no path such as /v1)")


@bp.get("/healthz")
def healthz():
    """Liveness for load balancers and `make run`; StackOne and Redis are not asked."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """Ready when the shared state (Redis, or the state folder) answers and StackOne's address has not proved wrong;
    503 with the reason otherwise. It also says when delivery of events to APP_WEBHOOK_URL is paused."""
    svc = services()
    reason = svc.state.ping() or _wrong_url_reason()
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
