"""The hub endpoints StackOne's `<stackone-hub>` web component calls, played by the sandbox (credentials-form path).

Shapes are those the component (@stackone/hub 1.11.4) reads: settings, the integrations list, one connector's
authentication fields, an account being edited, and account creation / update. OAuth pop-ups are not played.
"""

from __future__ import annotations

from html import escape

from flask import Blueprint, Response, jsonify, request

from sandbox.site import error, site
from sandbox.state import ACTIVE, CONNECTORS

hub = Blueprint("hub", __name__)
AUTH_KEY, ENVIRONMENT = "custom", "production"
FIELDS = [
    {"key": "api_key", "label": "API key", "type": "password", "required": True, "secret": True,
     "placeholder": "Paste the API key from the provider's admin settings"},
    {"key": "subdomain", "label": "Subdomain", "type": "text", "required": True, "secret": False,
     "placeholder": "acme"},
]


def integration(provider: str) -> dict:
    """One connector as the component's integrations list shows it."""
    name, category = CONNECTORS[provider]
    return {"provider": provider, "integration_id": f"int_{provider}", "name": name, "type": category,
            "active": True, "version": "1", "logo_url": f"{site().public_url}/hub/logos/{provider}.svg",
            "authentication_config_key": AUTH_KEY, "environment": ENVIRONMENT}


def session():
    """The hub session token the component sent, and its live session (None: expired or unknown)."""
    token = request.headers.get("x-hub-session-token", "")
    found = site().project.live_session(token)
    return token, found


@hub.before_app_request
def preflight():
    """A CORS preflight to /hub/*: allowed, with no body."""
    if request.path.startswith("/hub/") and request.method == "OPTIONS":
        return Response(status=204)
    return None


@hub.after_app_request
def cors(response):
    """A page on any origin may call /hub/* (the component runs in the customer's page)."""
    if request.path.startswith("/hub/"):
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Allow-Headers"] = "content-type, x-hub-session-token, x-hub-version"
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, PATCH, DELETE"
    return response


@hub.get("/hub/logos/<provider>.svg")
def logo(provider: str):
    """A connector's logo: its initial on a square."""
    letter = escape((CONNECTORS.get(provider, (provider,))[0] or "?")[:1])
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24"><rect width="24" height="24" rx="5" '
           f'fill="#3b5bdb"/><text x="12" y="17" font-size="14" text-anchor="middle" fill="#fff" '
           f'font-family="sans-serif">{letter}</text></svg>')
    return Response(svg, mimetype="image/svg+xml")


@hub.get("/hub/settings")
def settings():
    """GET /hub/settings: the session's features and the account it edits, if any."""
    _, found = session()
    if found is None:
        return error(401, "Token expired")
    return jsonify({"enabled_features": [], "existing_account_id": found.get("account_id")})


@hub.get("/hub/connectors")
def connectors():
    """GET /hub/connectors: the session's provider, or every active one."""
    _, found = session()
    if found is None:
        return error(401, "Token expired")
    wanted = request.args.get("provider") or found.get("provider")
    providers = [wanted] if wanted in ACTIVE else sorted(ACTIVE)
    return jsonify({"integrations": [integration(p) for p in providers], "external_trigger_token": None})


@hub.get("/hub/connectors/<integration_id>")
def connector(integration_id: str):
    """GET /hub/connectors/<id>: one connector and its authentication fields."""
    _, found = session()
    if found is None:
        return error(401, "Token expired")
    provider = integration_id.removeprefix("int_")
    if provider not in ACTIVE:
        return error(404, "Connector not found")
    # The component reads the header's name and icon from `config` (and the fields from config.authentication).
    described = {"key": provider, "name": CONNECTORS[provider][0],
                 "assets": {"icon": f"{site().public_url}/hub/logos/{provider}.svg"}}
    return jsonify({**described, "config": {**described, "authentication": {AUTH_KEY: {ENVIRONMENT: {
        "type": "custom", "fields": FIELDS,
        "guide": {"description": "Sandbox: any API key and subdomain are accepted."}}}}}})


@hub.get("/hub/accounts/<account_id>")
def account(account_id: str):
    """GET /hub/accounts/<id>: the account the session edits, secrets redacted."""
    _, found = session()
    if found is None:
        return error(401, "Token expired")
    stored = site().project.accounts.get(account_id)
    if stored is None or stored["origin_owner_id"] != found["origin_owner_id"]:
        return error(404, "Account not found")
    return jsonify({"id": account_id, "provider": stored["provider"], "integrationId": f"int_{stored['provider']}",
                    "authConfigKey": AUTH_KEY, "environment": ENVIRONMENT,
                    "setupInformation": stored.get("setup_information") or {},
                    "secrets": {"api_key": "__secretvalue:**redacted**"}})


def connect(account_id: str | None):
    """Create (account_id None) or update the session's account from the form's credentials."""
    token, found = session()
    if found is None:
        return error(401, "Token expired")
    body = request.get_json(silent=True) or {}
    credentials = body.get("credentials") if isinstance(body.get("credentials"), dict) else {}
    provider = str(body.get("integration_id", "")).removeprefix("int_")
    if account_id and account_id != found.get("account_id"):
        return error(403, "This session edits another account")
    missing = [f["label"] for f in FIELDS if f["required"] and not credentials.get(f["key"])
               and not (account_id and f["secret"])]
    if missing:
        return error(400, f"{', '.join(missing)} required")
    try:
        event, stored = site().project.complete(token, provider, credentials)
    except LookupError as exc:
        return error(404, str(exc))
    except ValueError as exc:
        return error(400, str(exc))
    site().webhooks.deliver(event, stored)
    return jsonify({"id": stored["id"], "provider": stored["provider"]})


@hub.post("/hub/accounts")
def create_account():
    """POST /hub/accounts: connect a new account."""
    return connect(None)


@hub.patch("/hub/accounts/<account_id>")
def update_account(account_id: str):
    """PATCH /hub/accounts/<id>: reconnect the session's account."""
    return connect(account_id)
