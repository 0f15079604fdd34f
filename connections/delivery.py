"""Sending queued events: a connection.broken gets its reconnect Auth Link (owner-scoped, edit mode) when sent; a
`410 Gone` pauses delivery to the endpoint (connections.pause) until the operator resumes it."""

from __future__ import annotations

import copy
import threading
from typing import Any

from connections.changes import BROKE
from connections.ledger import Claim, Ledger
from connections.monitor import LINK_LIFETIME
from connections.outbox import deliver
from connections.pause import EndpointPause
from connections.schedule import GONE, Failure
from connections.sender import AppWebhookSender, DeliveryFailed
from domain.times import iso_utc
from errors import AccountNotFound
from identity.owner import Owner
from logs.audit import audit
from metrics import record_delivery, record_endpoint_paused
from policy import SessionRequest


def with_reconnect_link(event: dict[str, Any], open_session) -> dict[str, Any]:
    """The event as sent: a broken connection's `reconnect` is a fresh Auth Link for that account (edit mode)."""
    if event["type"] != BROKE:
        return event
    sent = copy.deepcopy(event)
    data = sent["data"]
    # Minted for the account's own origin_username: after the repair StackOne still says who connected it.
    owner = Owner(data["ownerId"], event.get("owner_name") or data["ownerId"], event.get("origin_username"))
    try:
        issued = open_session(owner, SessionRequest(expires_in=LINK_LIFETIME, account_id=data["accountId"],
                                                    kind="link"))
    except AccountNotFound:
        data["reconnect"] = None  # deleted meanwhile: nothing left to reconnect
        return sent
    # Its token goes to the customer's backend only, in the signed event; the audit line never carries it.
    audit("auth_link_minted", via=BROKE, owner_id=owner.id, **issued.audit_fields())
    data["reconnect"] = {"url": issued.link, "expiresIn": issued.expires_in,
                         "expiresAt": iso_utc(issued.expires_at)}
    return sent


def deliver_due(ledger: Ledger, claims: list[Claim], sender: AppWebhookSender, open_session, pause: EndpointPause,
                now: float) -> dict[str, int]:
    """Send each claimed event once, concurrently (retries are the outbox's); counted in metrics. The caller claims
    none while delivery is paused; a 410 met in this pass pauses it, and the sends not yet started are held."""
    gone = threading.Event()

    def send(event: dict[str, Any]) -> None:
        if gone.is_set():
            raise DeliveryFailed(Failure("delivery paused", GONE))
        try:
            sender.send(with_reconnect_link(event, open_session))
        except DeliveryFailed as exc:
            if exc.failure.status == GONE and not gone.is_set():
                gone.set()
                if pause.pause(GONE, held=ledger.backlog()):
                    record_endpoint_paused()
            raise

    counts = deliver(ledger, claims, send, now)
    for outcome in ("delivered", "retry", "failed"):
        record_delivery(outcome, counts.get(outcome, 0))
    return counts
