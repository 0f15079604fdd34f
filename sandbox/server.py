"""The sandbox's HTTP face: StackOne's endpoints with Basic auth, the hub's endpoints, and a tiny hub page."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time
from html import escape

import requests
from flask import Flask, jsonify, request

from sandbox.hub import register_hub
from sandbox.state import ACTIVE, CONNECTORS, SandboxProject, now_iso

log = logging.getLogger("sandbox")


def stackone_signature(secret: str, body: bytes) -> str:
    """x-stackone-signature as StackOne makes it: HMAC-SHA256, base64url without '=' padding."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _error(status: int, message) -> tuple:
    return jsonify({"statusCode": status, "message": message, "timestamp": now_iso()}), status


def create_sandbox(api_key: str, public_url: str, webhook_url: str | None = None,
                   webhook_secret: str | None = None) -> Flask:
    """A Flask app that behaves like the parts of StackOne this service uses."""
    app = Flask("sandbox")
    project = SandboxProject()
    app.extensions["sandbox"] = project
    expected = "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()

    @app.before_request
    def _check_key():
        if request.path.startswith(("/embedded", "/sandbox", "/hub/")):
            return None  # the hub and the sandbox's own controls are not StackOne API calls
        project.calls.append(f"{request.method} {request.path}")
        if project.latency:
            time.sleep(project.latency)  # a slow StackOne, on request (POST /sandbox/latency)
        if not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
            return _error(401, "Unauthorized")
        return None

    @app.post("/connect_sessions")
    def connect_sessions():
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return _error(400, "Invalid body")
        missing = [f for f in ("origin_owner_id", "origin_owner_name") if not isinstance(body.get(f), str)]
        if missing:
            return _error(400, [f"{f} must be a string" for f in missing])
        if "provider_version" in body:
            return _error(400, "provider_version is deprecated")
        if body.get("provider") and body["provider"] not in ACTIVE:
            return _error(412, f"Integration {body['provider']} is not enabled")
        if body.get("account_id"):
            account = project.accounts.get(body["account_id"])
            if account is None or account["origin_owner_id"] != body["origin_owner_id"]:
                return _error(404, "Account not found")
        session = project.new_session(body)
        session["auth_link_url"] = f"{public_url}/embedded/integrations?token={session['token']}"
        return jsonify(session), 201

    @app.get("/accounts")
    def list_accounts():
        owner = request.args.get("origin_owner_id")
        providers = request.args.getlist("providers")
        page, size = request.args.get("page", 1, type=int), request.args.get("page_size", 25, type=int)
        found = [a for a in project.accounts.values()
                 if (not owner or a["origin_owner_id"] == owner) and (not providers or a["provider"] in providers)]
        return jsonify(found[(page - 1) * size: page * size])

    @app.get("/accounts/<account_id>")
    def get_account(account_id: str):
        account = project.accounts.get(account_id)
        return jsonify(account) if account else _error(404, "Account not found")

    @app.post("/connect_sessions/authenticate")
    def authenticate_session():
        body = request.get_json(silent=True)
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            return _error(400, "token must be a string")
        try:
            return jsonify(project.session_details(token)), 201
        except LookupError:
            return _error(404, "Session not found")

    @app.delete("/accounts/<account_id>")
    def delete_account(account_id: str):
        try:
            account = project.delete(account_id)
        except LookupError:
            return _error(404, "Account not found")
        _deliver("account.deleted", account)
        return jsonify(account)

    @app.post("/sandbox/accounts/<account_id>/status")
    def mark_account(account_id: str):
        """Sandbox control: break (or mend) an account, e.g. {"status": "error", "reasons": [{"code": ...}]}."""
        body = request.get_json(silent=True) or {}
        status = body.get("status") if isinstance(body.get("status"), str) else "error"
        reasons = [r for r in body.get("reasons", []) if isinstance(r, dict)] if isinstance(
            body.get("reasons"), list) else []
        try:
            account = project.mark(account_id, status, reasons)
        except LookupError:
            return _error(404, "Account not found")
        _deliver("account.updated", account)
        return jsonify({k: v for k, v in account.items() if k != "credentials"})

    @app.post("/sandbox/latency")
    def set_latency():
        """Sandbox control: every StackOne API call waits this long first, e.g. {"seconds": 1.5} (0 turns it off)."""
        body = request.get_json(silent=True)
        seconds = body.get("seconds", 0) if isinstance(body, dict) else None
        if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not 0 <= seconds <= 60:
            return _error(400, "seconds must be a number from 0 to 60")
        project.latency = float(seconds)
        return jsonify({"seconds": project.latency})

    @app.post("/sandbox/cancel")
    def cancel():
        """What the hub does when the user closes it without connecting."""
        data = request.get_json(silent=True) if request.is_json else request.form
        try:
            project.cancel(str((data or {}).get("token", "")))
        except LookupError as exc:
            return _error(404, str(exc))
        return jsonify({"status": "cancelled"})

    @app.get("/connectors/meta")
    def connectors_meta():
        return jsonify([{"provider": key, "provider_name": name, "category": category, "active": key in ACTIVE,
                         "models": {}, "resources": {}} for key, (name, category) in CONNECTORS.items()])

    @app.get("/embedded/integrations")
    def hub_page():
        token = request.args.get("token", "")
        session = project.sessions.get(token)
        if session is None:
            return "<h1>StackOne sandbox hub</h1><p>This link is unknown or has expired.</p>", 404
        choice = "" if session["provider"] else "".join(
            f'<label><input type="radio" name="provider" value="{p}" required> {CONNECTORS[p][0]}</label><br>'
            for p in sorted(ACTIVE))
        return (f"<h1>StackOne sandbox hub</h1><p>Connecting an account for "
                f"<b>{escape(session['origin_owner_name'])}</b> "
                f"({escape(session['provider'] or 'choose a provider')}).</p>"
                f'<form method="post" action="/sandbox/complete"><input type="hidden" name="token" '
                f'value="{escape(token)}">{choice}<button>Connect</button></form>')

    @app.post("/sandbox/complete")
    def complete():
        data = request.get_json(silent=True) if request.is_json else request.form
        try:
            event, account = project.complete(str(data.get("token", "")), data.get("provider"))
        except LookupError as exc:
            return _error(404, str(exc))
        except ValueError as exc:
            return _error(400, str(exc))
        _deliver(event, account)
        public = {k: v for k, v in account.items() if k not in ("credentials",)}
        if request.is_json:
            return jsonify({"event": event, "account": public})
        return f"<h1>Connected</h1><p>{escape(event)}: account {escape(account['id'])}.</p>"

    @app.get("/sandbox/calls")
    def calls():
        return jsonify(project.calls)

    def _deliver(event: str, account: dict) -> None:
        if not (webhook_url and webhook_secret):
            return
        body = json.dumps({
            "project_id": "sandbox-project", "event": event, "event_date": now_iso(), "record_type": "account",
            "record_id": account["id"], "sent_at": now_iso(), "account_id": account["id"],
            "provider": account["provider"], "origin_owner_id": account["origin_owner_id"],
            "origin_owner_name": account["origin_owner_name"], "origin_username": account["origin_username"],
            "setup_information": account["setup_information"],
        }).encode()
        try:
            requests.post(webhook_url, data=body, timeout=5, headers={
                "Content-Type": "application/json", "x-stackone-signature": stackone_signature(webhook_secret, body)})
        except requests.RequestException as exc:
            log.warning("webhook delivery to %s failed: %s", webhook_url, type(exc).__name__)

    register_hub(app, project, public_url, _deliver)
    return app
