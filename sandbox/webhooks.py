"""The account.* webhooks the sandbox sends, signed as StackOne signs them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging

import requests

from sandbox.state import SandboxProject, now_iso

log = logging.getLogger("sandbox")


def stackone_signature(secret: str, body: bytes) -> str:
    """x-stackone-signature as StackOne makes it: HMAC-SHA256, base64url without '=' padding."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class Webhooks:
    """Sends one account event to the configured URL, unless no URL or secret is set or the project turned them off."""

    def __init__(self, project: SandboxProject, url: str | None, secret: str | None) -> None:
        self.project, self.url, self.secret = project, url, secret

    def deliver(self, event: str, account: dict) -> None:
        """POST the event for this account, signed; a failed delivery is logged, never raised."""
        if not (self.url and self.secret and self.project.webhooks):
            return
        body = json.dumps({
            "project_id": "sandbox-project", "event": event, "event_date": now_iso(), "record_type": "account",
            "record_id": account["id"], "sent_at": now_iso(), "account_id": account["id"],
            "provider": account["provider"], "origin_owner_id": account["origin_owner_id"],
            "origin_owner_name": account["origin_owner_name"], "origin_username": account["origin_username"],
            "setup_information": account["setup_information"],
        }).encode()
        try:
            requests.post(self.url, data=body, timeout=5, headers={
                "Content-Type": "application/json", "x-stackone-signature": stackone_signature(self.secret, body)})
        except requests.RequestException as exc:
            log.warning("webhook delivery to %s failed: %s", self.url, type(exc).__name__)
