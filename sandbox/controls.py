"""The sandbox's controls over its project (JSON only): break an account, seed accounts, finish or cancel a session as
the hub would, and read back what the API received."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from sandbox.hub_page import finish
from sandbox.site import error, site
from sandbox.state import CONNECTORS

controls = Blueprint("controls", __name__)


@controls.post("/sandbox/accounts/<account_id>/status")
def mark_account(account_id: str):
    """Sandbox control: break (or mend) an account, e.g. {"status": "error", "reasons": [{"code": ...}]}."""
    body = request.get_json(silent=True) or {}
    status = body.get("status") if isinstance(body.get("status"), str) else "error"
    reasons = [r for r in body.get("reasons", []) if isinstance(r, dict)] if isinstance(
        body.get("reasons"), list) else []
    try:
        account = site().project.mark(account_id, status, reasons)
    except LookupError:
        return error(404, "Account not found")
    site().webhooks.deliver("account.updated", account)
    return jsonify({k: v for k, v in account.items() if k != "credentials"})


@controls.post("/sandbox/accounts")
def seed_accounts():
    """Sandbox control: {"count": N, "owners": M, "provider": "hibob"} makes N active accounts spread over M
    owners (seed-org-1 …) at once, with no webhook: a project the service has never seen."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not all(isinstance(body.get(k), int) and not isinstance(body.get(k), bool)
                                             and 1 <= body[k] <= 100_000 for k in ("count", "owners")):
        return error(400, "count and owners must be whole numbers from 1 to 100000")
    provider = body.get("provider", "hibob")
    if provider not in CONNECTORS:
        return error(400, f"provider must be one of: {', '.join(sorted(CONNECTORS))}")
    made = site().project.seed(body["count"], body["owners"], provider)
    return jsonify({"created": len(made)}), 201


@controls.post("/sandbox/cancel")
def cancel():
    """What the hub does when the user closes it without connecting."""
    data = request.get_json(silent=True)
    try:
        site().project.cancel(str((data if isinstance(data, dict) else {}).get("token", "")))
    except LookupError as exc:
        return error(404, str(exc))
    return jsonify({"status": "cancelled"})


@controls.post("/sandbox/complete")
def complete():
    """Sandbox control: finish a session as the hub does, {"token", "provider"?}."""
    data = request.get_json(silent=True)
    done = finish(data if isinstance(data, dict) else {})
    if not isinstance(done[0], str):
        return done
    event, account = done
    return jsonify({"event": event, "account": account})


@controls.get("/sandbox/requests")
def recorded_requests():
    """Every API call received, with its query and JSON body (the SDK check reads our client's from here)."""
    return jsonify(site().project.requests)


@controls.get("/sandbox/calls")
def calls():
    """Every API call received, as "METHOD /path"."""
    return jsonify(site().project.calls)
