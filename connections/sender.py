"""Signed delivery to the customer's app in the Standard Webhooks format (the `standardwebhooks` library signs):
`webhook-id`, `webhook-timestamp`, `webhook-signature` headers over `{"type", "timestamp", "data"}`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import requests
from standardwebhooks.webhooks import Webhook

TIMEOUT = 5.0


class DeliveryFailed(Exception):
    """The customer's endpoint did not answer 2xx in time."""


class AppWebhookSender:
    """POSTs one event to APP_WEBHOOK_URL, signed with APP_WEBHOOK_SECRET (a `whsec_...` secret)."""

    def __init__(self, url: str, secret: str) -> None:
        self._url = url
        self._signer = Webhook(secret)
        self._session = requests.Session()
        self._session.trust_env = False  # the customer's own endpoint: no proxy settings from the environment
        self._session.max_redirects = 0

    def send(self, event: dict[str, Any]) -> None:
        """Deliver or raise DeliveryFailed; the same event id on every retry (receivers de-duplicate by it)."""
        body = json.dumps({"type": event["type"], "timestamp": event["timestamp"], "data": event["data"]},
                          separators=(",", ":"))
        sent_at = datetime.now(UTC)
        headers = {"Content-Type": "application/json", "webhook-id": event["id"],
                   "webhook-timestamp": str(int(sent_at.timestamp())),
                   "webhook-signature": self._signer.sign(event["id"], sent_at, body)}
        try:
            answer = self._session.post(self._url, data=body.encode(), headers=headers, timeout=TIMEOUT,
                                        allow_redirects=False)
        except requests.RequestException as exc:
            raise DeliveryFailed(type(exc).__name__) from None
        if not 200 <= answer.status_code < 300:
            raise DeliveryFailed(f"HTTP {answer.status_code}")
