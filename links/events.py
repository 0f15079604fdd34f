"""The events an Auth Link makes for the customer's app (`link.completed`, `link.expiring`), in the envelope of the
connection events (docs/events.md): each id derived from the link and the kind, so every retry of the same step, on
any worker, carries the same webhook-id."""

from __future__ import annotations

from typing import Any

from domain.times import iso_utc
from links.model import Link
from state.keys import digest

LINK_COMPLETED, LINK_EXPIRING = "link.completed", "link.expiring"


def event_id(link: Link, kind: str) -> str:
    """The event's id (its webhook-id): one per link and kind, as each is sent once."""
    return "evt_" + digest(link.handle, kind)[:32]


def _event(link: Link, kind: str, data: dict[str, Any], now: float) -> dict[str, Any]:
    return {"id": event_id(link, kind), "type": kind, "timestamp": iso_utc(now), "data": data}


def completed_event(link: Link, provider: str | None, now: float) -> dict[str, Any]:
    """link.completed for a completed link: the account made through it, and when (StackOne's event time)."""
    return _event(link, LINK_COMPLETED, {"linkId": link.handle, "ownerId": link.owner_id,
                                         "accountId": link.completed_account, "provider": provider or link.provider,
                                         "completedAt": iso_utc(link.completed_at)}, now)


def expiring_event(link: Link, now: float) -> dict[str, Any]:
    """link.expiring for a live link a day before it ends: for whom it was sent, and when it ends."""
    return _event(link, LINK_EXPIRING, {"linkId": link.handle, "ownerId": link.owner_id,
                                        "for": link.origin_username, "expiresAt": iso_utc(link.expires)}, now)
