"""StackOne's Connect Session endpoints, played: create one, and authenticate one by its token."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from sandbox.rules import session_body_errors
from sandbox.site import error, site
from sandbox.state import ACTIVE

sessions_api = Blueprint("sessions_api", __name__)


@sessions_api.post("/connect_sessions")
def connect_sessions():
    """POST /connect_sessions: validated as StackOne does, answered with the session and its hub link."""
    body = request.get_json(silent=True)
    errors = session_body_errors(body)
    if errors:
        return error(400, errors)
    if body.get("provider") and body["provider"] not in ACTIVE:
        return error(412, f"Integration {body['provider']} is not enabled")
    project = site().project
    if body.get("account_id"):
        account = project.accounts.get(body["account_id"])
        if account is None or account["origin_owner_id"] != body["origin_owner_id"]:
            return error(404, "Account not found")
    session = project.new_session(body)
    session["auth_link_url"] = f"{site().public_url}/embedded/integrations?token={session['token']}"
    return jsonify(session), 201


@sessions_api.post("/connect_sessions/authenticate")
def authenticate_session():
    """POST /connect_sessions/authenticate: the session behind a token, as the hub reads it."""
    body = request.get_json(silent=True)
    token = body.get("token") if isinstance(body, dict) else None
    if not isinstance(token, str) or not token:
        return error(400, "token must be a string")
    try:
        return jsonify(site().project.session_details(token)), 201
    except LookupError:
        return error(404, "Session not found")
