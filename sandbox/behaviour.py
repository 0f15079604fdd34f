"""The sandbox's controls over how its StackOne behaves (JSON only): latency, armed faults, and settings (connection
attempts, webhooks, the page size cap, the rate limit)."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from sandbox.site import error, site

behaviour = Blueprint("behaviour", __name__)
SWITCHES = ("connection_attempts", "webhooks")


def _seconds(value, most: int = 60) -> bool:
    """A number of seconds from 0 to `most` (not a bool)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= most


@behaviour.post("/sandbox/latency")
def set_latency():
    """Sandbox control: every StackOne API call waits this long first, e.g. {"seconds": 1.5} (0 turns it off)."""
    body = request.get_json(silent=True)
    seconds = body.get("seconds", 0) if isinstance(body, dict) else None
    if not _seconds(seconds):
        return error(400, "seconds must be a number from 0 to 60")
    site().project.latency = float(seconds)
    return jsonify({"seconds": site().project.latency})


@behaviour.post("/sandbox/faults")
def arm_fault():
    """Sandbox control: answer the next `times` API calls (matching `method`/`path` when given) with `status`,
    e.g. {"status": 429, "retry_after": 2}, {"status": 502, "path": "/accounts/x", "times": 3}; `delay` seconds
    first plays a slow failure. DELETE /sandbox/faults disarms them all."""
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    status, times = body.get("status"), body.get("times", 1)
    retry_after, delay = body.get("retry_after"), body.get("delay", 0)
    if not (isinstance(status, int) and 400 <= status <= 599) or not (isinstance(times, int) and times >= 1):
        return error(400, "status must be an HTTP error status (400-599) and times a positive integer")
    if retry_after is not None and not (isinstance(retry_after, int) and retry_after >= 0):
        return error(400, "retry_after must be a whole number of seconds")
    if not _seconds(delay):
        return error(400, "delay must be a number of seconds from 0 to 60")
    fault = {"status": status, "times": times, "retry_after": retry_after, "delay": float(delay),
             "method": body.get("method"), "path": body.get("path"),
             "message": str(body.get("message") or f"Sandbox fault {status}")}
    with site().project.lock:
        site().project.faults.append(fault)
    return jsonify(fault), 201


@behaviour.delete("/sandbox/faults")
def disarm_faults():
    """Sandbox control: disarm every fault."""
    with site().project.lock:
        site().project.faults.clear()
    return jsonify([])


@behaviour.post("/sandbox/settings")
def sandbox_settings():
    """Sandbox control: {"connection_attempts": false} leaves latest_connection_attempt out of authenticate;
    {"webhooks": false} sends no account.* webhook (accounts the service never hears of) until true again;
    {"max_page_size": N} serves at most N accounts a page, whatever page_size asks (0: no cap), as StackOne,
    whose largest page is not documented, may; {"rate_limit_per_minute": N} plays StackOne's rate limit (429
    with Retry-After past N API calls in any minute; 0: none), {"rate_limit_window_seconds": S} shortens that
    minute for a quick test. The answer also says how many calls were refused for the limit (`rate_limited`)."""
    body = request.get_json(silent=True)
    project = site().project
    counts = {"max_page_size": project.max_page_size, "rate_limit_per_minute": project.rate_limit,
              "rate_limit_window_seconds": project.rate_window}
    problem = _settings_problem(body, counts)
    if problem:
        return error(400, problem)
    for name in SWITCHES:
        setattr(project, name, body.get(name, getattr(project, name)))
    project.max_page_size = counts["max_page_size"]
    project.limit_rate(counts["rate_limit_per_minute"], counts["rate_limit_window_seconds"])
    return jsonify({**{name: getattr(project, name) for name in SWITCHES}, **counts,
                    "rate_limit_window_seconds": project.rate_window, "rate_limited": project.rate_limited})


def _settings_problem(body, counts: dict) -> str | None:
    """What is wrong with a settings body, or None; `counts` (the current figures) takes the body's new ones."""
    if not isinstance(body, dict) or not all(isinstance(body.get(name, True), bool) for name in SWITCHES):
        return "connection_attempts and webhooks must be true or false"
    counts.update({name: body[name] for name in counts if name in body})
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
                name != "rate_limit_window_seconds" and not isinstance(value, int)):
            return f"{name} must be a whole number, 0 for none"
    if not counts["rate_limit_window_seconds"]:
        return "rate_limit_window_seconds must be more than 0"
    return None
