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
from werkzeug.exceptions import HTTPException

from sandbox.hub import register_hub
from sandbox.rules import account_filter, account_matches, session_body_errors
from sandbox.state import ACTIVE, CONNECTORS, SandboxProject, now_iso

log = logging.getLogger("sandbox")


def stackone_signature(secret: str, body: bytes) -> str:
    """x-stackone-signature as StackOne makes it: HMAC-SHA256, base64url without '=' padding."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _error(status: int, message: str | list[str], headers: dict[str, str] | None = None) -> tuple:
    # StackOne's error body: statusCode, a string message (its schema says string), timestamp.
    text = "; ".join(message) if isinstance(message, list) else str(message)
    return jsonify({"statusCode": status, "message": text, "timestamp": now_iso()}), status, headers or {}


def _is_api(path: str) -> bool:
    """A StackOne API route (Basic auth, recorded, faults apply), not the hub or the sandbox's own controls."""
    return not path.startswith(("/embedded", "/sandbox", "/hub/", "/favicon.ico"))


def create_sandbox(api_key: str, public_url: str, webhook_url: str | None = None,
                   webhook_secret: str | None = None) -> Flask:
    """A Flask app that behaves like the parts of StackOne this service uses."""
    app = Flask("sandbox")
    project = SandboxProject()
    app.extensions["sandbox"] = project
    expected = "Basic " + base64.b64encode(f"{api_key}:".encode()).decode()

    @app.before_request
    def _check_key():
        if not _is_api(request.path):
            return None  # the hub and the sandbox's own controls are not StackOne API calls
        project.calls.append(f"{request.method} {request.path}")
        project.requests.append({"method": request.method, "path": request.path,
                                 "query": {k: request.args.getlist(k) for k in request.args},
                                 "body": request.get_json(silent=True)})
        if project.latency:
            time.sleep(project.latency)  # a slow StackOne, on request (POST /sandbox/latency)
        if not hmac.compare_digest(request.headers.get("Authorization", ""), expected):
            return _error(401, "Unauthorized")
        wait = project.throttle(time.time())
        if wait is not None:
            return _error(429, "Too many requests", {"Retry-After": str(wait)})
        fault = project.take_fault(request.method, request.path)
        if fault is not None:
            if fault["delay"]:
                time.sleep(fault["delay"])
            headers = {"Retry-After": str(fault["retry_after"])} if fault["retry_after"] is not None else {}
            return _error(fault["status"], fault["message"], headers)
        return None

    @app.before_request
    def _controls_take_json_only():
        # A cross-site page can post a form or text/plain without asking; JSON needs a CORS preflight the sandbox
        # never grants. So no page the developer visits can arm faults or finish a session in their demo.
        if request.path.startswith("/sandbox/") and request.method == "POST" and not request.is_json:
            return _error(415, "The sandbox's controls accept JSON only: send Content-Type: application/json")
        return None

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        # Unknown routes and methods answer as StackOne's API server does ("Cannot PUT /x", JSON), never HTML.
        if exc.code in (404, 405):
            return _error(404, f"Cannot {request.method} {request.path}")
        return _error(exc.code or 500, exc.name)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.error("sandbox failed on %s %s: %s", request.method, request.path, type(exc).__name__)
        return _error(500, "Internal server error")

    @app.post("/connect_sessions")
    def connect_sessions():
        body = request.get_json(silent=True)
        errors = session_body_errors(body)
        if errors:
            return _error(400, errors)
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
        filters, errors = account_filter(request.args)
        if errors:
            return _error(400, errors)
        found = [a for a in list(project.accounts.values()) if account_matches(a, filters)]
        page, size = filters["page"], filters["size"]
        if project.max_page_size:
            size = min(size, project.max_page_size)  # cut silently: the caller cannot tell a short page is not last
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

    @app.post("/sandbox/faults")
    def arm_fault():
        """Sandbox control: answer the next `times` API calls (matching `method`/`path` when given) with `status`,
        e.g. {"status": 429, "retry_after": 2}, {"status": 502, "path": "/accounts/x", "times": 3}; `delay` seconds
        first plays a slow failure. DELETE /sandbox/faults disarms them all."""
        body = request.get_json(silent=True)
        body = body if isinstance(body, dict) else {}
        status, times = body.get("status"), body.get("times", 1)
        retry_after, delay = body.get("retry_after"), body.get("delay", 0)
        if not (isinstance(status, int) and 400 <= status <= 599) or not (isinstance(times, int) and times >= 1):
            return _error(400, "status must be an HTTP error status (400-599) and times a positive integer")
        if retry_after is not None and not (isinstance(retry_after, int) and retry_after >= 0):
            return _error(400, "retry_after must be a whole number of seconds")
        if not isinstance(delay, (int, float)) or isinstance(delay, bool) or not 0 <= delay <= 60:
            return _error(400, "delay must be a number of seconds from 0 to 60")
        fault = {"status": status, "times": times, "retry_after": retry_after, "delay": float(delay),
                 "method": body.get("method"), "path": body.get("path"),
                 "message": str(body.get("message") or f"Sandbox fault {status}")}
        with project.lock:
            project.faults.append(fault)
        return jsonify(fault), 201

    @app.delete("/sandbox/faults")
    def disarm_faults():
        with project.lock:
            project.faults.clear()
        return jsonify([])

    @app.post("/sandbox/settings")
    def sandbox_settings():
        """Sandbox control: {"connection_attempts": false} leaves latest_connection_attempt out of authenticate;
        {"webhooks": false} sends no account.* webhook (accounts the service never hears of) until true again;
        {"max_page_size": N} serves at most N accounts a page, whatever page_size asks (0: no cap), as StackOne,
        whose largest page is not documented, may; {"rate_limit_per_minute": N} plays StackOne's rate limit (429
        with Retry-After past N API calls in any minute; 0: none), {"rate_limit_window_seconds": S} shortens that
        minute for a quick test. The answer also says how many calls were refused for the limit (`rate_limited`)."""
        body = request.get_json(silent=True)
        switches = ("connection_attempts", "webhooks")
        if not isinstance(body, dict) or not all(isinstance(body.get(name, True), bool) for name in switches):
            return _error(400, "connection_attempts and webhooks must be true or false")
        counts = {"max_page_size": project.max_page_size, "rate_limit_per_minute": project.rate_limit,
                  "rate_limit_window_seconds": project.rate_window}
        counts.update({name: body[name] for name in counts if name in body})
        for name, value in counts.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
                    name != "rate_limit_window_seconds" and not isinstance(value, int)):
                return _error(400, f"{name} must be a whole number, 0 for none")
        if not counts["rate_limit_window_seconds"]:
            return _error(400, "rate_limit_window_seconds must be more than 0")
        for name in switches:
            setattr(project, name, body.get(name, getattr(project, name)))
        project.max_page_size = counts["max_page_size"]
        project.limit_rate(counts["rate_limit_per_minute"], counts["rate_limit_window_seconds"])
        return jsonify({**{name: getattr(project, name) for name in switches}, **counts,
                        "rate_limit_window_seconds": project.rate_window, "rate_limited": project.rate_limited})

    @app.post("/sandbox/accounts")
    def seed_accounts():
        """Sandbox control: {"count": N, "owners": M, "provider": "hibob"} makes N active accounts spread over M
        owners (seed-org-1 …) at once, with no webhook: a project the service has never seen."""
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not all(isinstance(body.get(k), int) and not isinstance(body.get(k), bool)
                                                 and 1 <= body[k] <= 100_000 for k in ("count", "owners")):
            return _error(400, "count and owners must be whole numbers from 1 to 100000")
        provider = body.get("provider", "hibob")
        if provider not in CONNECTORS:
            return _error(400, f"provider must be one of: {', '.join(sorted(CONNECTORS))}")
        made = project.seed(body["count"], body["owners"], provider)
        return jsonify({"created": len(made)}), 201

    @app.get("/sandbox/requests")
    def recorded_requests():
        """Every API call received, with its query and JSON body (the SDK check reads our client's from here)."""
        return jsonify(project.requests)

    @app.get("/favicon.ico")
    def favicon():
        return "", 204

    @app.post("/sandbox/cancel")
    def cancel():
        """What the hub does when the user closes it without connecting."""
        data = request.get_json(silent=True)
        try:
            project.cancel(str((data if isinstance(data, dict) else {}).get("token", "")))
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
                f'<form method="post"><input type="hidden" name="token" '
                f'value="{escape(token)}">{choice}<button>Connect</button></form>')

    def _complete(data) -> tuple[str, dict] | tuple:
        """Finish a session as the hub does; (event, account) or an error answer."""
        try:
            event, account = project.complete(str(data.get("token", "")), data.get("provider"))
        except LookupError as exc:
            return _error(404, str(exc))
        except ValueError as exc:
            return _error(400, str(exc))
        _deliver(event, account)
        return event, {k: v for k, v in account.items() if k not in ("credentials",)}

    @app.post("/embedded/integrations")
    def hub_page_submitted():
        """The plain hub page's own form (the link's page, as StackOne's hub finishes on its own origin)."""
        done = _complete(request.form)
        if not isinstance(done[0], str):
            return done
        event, account = done
        return f"<h1>Connected</h1><p>{escape(event)}: account {escape(account['id'])}.</p>"

    @app.post("/sandbox/complete")
    def complete():
        """Sandbox control: finish a session as the hub does, {"token", "provider"?}."""
        data = request.get_json(silent=True)
        done = _complete(data if isinstance(data, dict) else {})
        if not isinstance(done[0], str):
            return done
        event, account = done
        return jsonify({"event": event, "account": account})

    @app.get("/sandbox/calls")
    def calls():
        return jsonify(project.calls)

    def _deliver(event: str, account: dict) -> None:
        if not (webhook_url and webhook_secret and project.webhooks):
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
