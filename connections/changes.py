"""What changed for one account, in plain Python: the events a new observation makes of the last one applied."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from domain.accounts import RECONNECT_STATUSES

CREATED, BROKE, REPAIRED, DELETED = "connection.created", "connection.broken", "connection.repaired", \
    "connection.deleted"


@dataclass(frozen=True)
class Observation:
    """An account as seen now: by a webhook (then fetched), by reconciliation, or gone."""

    account_id: str
    owner_id: str | None
    deleted: bool = False
    status: str | None = None
    provider: str | None = None
    owner_name: str | None = None
    label: str | None = None
    reason_code: str | None = None
    reason_text: str | None = None
    username: str | None = None  # origin_username: who connected it, kept for the reconnect link
    # Deleted by this service itself (disconnect, offboarding), described as read just before the delete: announced
    # even when the account was never seen here.
    deleted_here: bool = False

    @property
    def broken(self) -> bool:
        """True when the account needs its user to reconnect it."""
        return not self.deleted and (self.status or "").lower() in RECONNECT_STATUSES

    def filled_from(self, previous: dict[str, Any] | None) -> Observation:
        """A deletion with what it does not say (a gone account cannot be read) taken from the last state kept."""
        if not self.deleted or not previous:
            return self
        last = {"owner_id": "owner_id", "provider": "provider", "owner_name": "owner_name", "label": "label",
                "username": "origin_username"}
        return replace(self, **{mine: previous.get(kept) for mine, kept in last.items()
                                if getattr(self, mine) is None and previous.get(kept) is not None})


def events_for(previous: dict[str, Any] | None, now: Observation) -> list[str]:
    """The events this observation makes: none when nothing a customer cares about changed."""
    known = previous is not None and not previous.get("deleted")
    if now.deleted:
        if known:
            return [DELETED]
        # Never seen here (or seen only as a bare deletion, which made no event): announced when this service
        # deleted it itself; once, since a kept record that ever made an event has its deletion announced.
        return [DELETED] if now.deleted_here and not (previous or {}).get("version") else []
    if not known:
        return [CREATED, BROKE] if now.broken else [CREATED]
    was_broken = (previous.get("status") or "").lower() in RECONNECT_STATUSES
    if now.broken and not was_broken:
        return [BROKE]
    if was_broken and not now.broken and (now.status or "").lower() == "active":
        return [REPAIRED]
    return []


def as_record(now: Observation, *, applied: tuple[float, int], version: int, broken_since: float | None,
              reminded_at: float | None) -> dict[str, Any]:
    """The state kept for the account after applying an observation."""
    return {"owner_id": now.owner_id, "provider": now.provider, "owner_name": now.owner_name, "label": now.label,
            "origin_username": now.username,
            "status": "deleted" if now.deleted else now.status, "deleted": now.deleted,
            "reason_code": now.reason_code, "reason_text": now.reason_text, "applied": list(applied),
            "version": version, "broken_since": broken_since, "reminded_at": reminded_at}
