"""POST /stackone_webhooks: StackOne's account events, verified on the raw bytes before anything is parsed."""

from __future__ import annotations

import json

from flask import Blueprint, jsonify, request

from errors import InvalidJSON, WebhookUnavailable
from services import services
from webhooks.events import handle_event
from webhooks.signature import verify_signature

bp = Blueprint("webhooks", __name__)


@bp.post("/stackone_webhooks")
def receive_webhook():
    """Verify, de-duplicate, act, and answer 200 fast."""
    svc = services()
    if not svc.settings.webhook_secrets:
        raise WebhookUnavailable("No STACKONE_WEBHOOK_SECRETS configured; unsigned events are never accepted")
    body = request.get_data(cache=False)
    verify_signature(body, request.headers.get("x-stackone-signature"), svc.settings.webhook_secrets)
    try:
        event = json.loads(body)
    except (UnicodeDecodeError, ValueError):
        raise InvalidJSON("The signed body is not JSON") from None
    if not isinstance(event, dict):
        raise InvalidJSON("The signed body is not a JSON object")
    outcome = handle_event(body, event, state=svc.state, accounts=svc.accounts)
    return jsonify({"status": outcome})
