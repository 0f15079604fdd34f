"""POST /stackone_webhooks: StackOne's account events, verified on the raw bytes before anything is parsed."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from errors import WebhookUnavailable
from extensions import services
from logs.audit import audit
from metrics import webhook_event_label
from schemas.strict_json import parse_json_object
from web.body import read_body
from web.context import context
from webhooks.events import handle_event, short_text
from webhooks.signature import verify_signature

bp = Blueprint("webhooks", __name__)


@bp.post("/stackone_webhooks")
def receive_webhook():
    """Verify, de-duplicate, act, and answer 200 fast."""
    svc = services()
    if not svc.settings.events.webhook_secrets:
        raise WebhookUnavailable("No STACKONE_WEBHOOK_SECRETS configured; unsigned events are never accepted")
    body = read_body()
    verify_signature(body, request.headers.get("x-stackone-signature"), svc.settings.events.webhook_secrets)
    event = parse_json_object(body, "The signed body")
    # Each account's state is tracked (and the account fetched, since events carry no status) for the customer's
    # app: only when it has a receiver (APP_WEBHOOK_URL).
    connections = svc.connections if svc.settings.events.app_webhook_url else None
    outcome = handle_event(body, event, state=svc.state, accounts=svc.accounts, connections=connections,
                           links=svc.link_store)
    context().webhook = (webhook_event_label(event.get("event")), outcome)  # counted by metrics
    if outcome == "processed":
        # Only short scalars of the (signed) body reach the audit line; never the body or setup_information.
        audit("webhook_accepted", **{field: short_text(event.get(field))
                                     for field in ("event", "account_id", "provider", "origin_owner_id")})
    return jsonify({"status": outcome})
