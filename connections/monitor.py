"""Apply what is learnt of each account (StackOne's webhooks, reconciliation) in order, once, and turn each change
into one event for the customer's app; remind while an account stays broken."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from connections.changes import BROKE, Observation, as_record, events_for
from connections.ledger import REMIND, Claim, Ledger
from domain.accounts import ACCOUNT_DELETED, Account
from domain.times import iso_utc, parse_iso
from errors import ServiceBusy
from metrics import record_account_change
from stackone.client import StackOneClient
from state.keys import digest

log = logging.getLogger(__name__)

DEFAULT_REMINDER = 24 * 3600
LINK_LIFETIME = 5 * 24 * 3600  # the reconnect Auth Link's lifetime, stated in the event
WRITE_ATTEMPTS = 20  # compare-and-set rounds before a change gives up (503): many writers on one account at once


def observed(account: Account) -> Observation:
    """An Observation of an account as StackOne describes it (its first status reason, if any)."""
    reason = account.status_reasons[0] if account.status_reasons else {}
    return Observation(account.id, account.origin_owner_id, status=account.status, provider=account.provider,
                       owner_name=account.origin_owner_name, label=account.label, username=account.origin_username,
                       reason_code=reason.get("code"), reason_text=reason.get("description"))


def event_time(text: Any) -> float | None:
    """StackOne's event_date (ISO 8601) as epoch seconds, or None."""
    moment = parse_iso(text)
    return None if moment is None else moment.timestamp()


class ConnectionMonitor:
    """The applied state per account, and the events its changes make (queued only when the app has a receiver).

    No lock: each change is read, worked out in Python, and written with the events it makes in one compare-and-set
    on the account's revision (connections/ledger.py); a writer that lost the race reads again.
    """

    def __init__(self, ledger: Ledger, *, client, sending: bool, reminder_seconds: float = DEFAULT_REMINDER,
                 clock: Callable[[], float] = time.time) -> None:
        self.ledger = ledger
        self._client = client
        self._sending = sending
        self.reminder_seconds = reminder_seconds
        self._clock = clock

    def now(self) -> float:
        """The monitor's clock (epoch seconds; frozen in tests)."""
        return self._clock()

    def apply(self, now: Observation, when: tuple[float, int], source: str) -> str:
        """Apply an observation made at `when` (event time, then delivery order): "applied", "unchanged" or "stale"
        (older than the last one applied for the account: acknowledged, dropped and counted)."""
        for _ in range(WRITE_ATTEMPTS):
            previous, revision = self.ledger.read(now.account_id)
            if previous is not None and tuple(previous.get("applied") or (0, 0)) >= when:
                record_account_change(source, "stale_dropped")
                return "stale"
            seen = now.filled_from(previous)
            kinds = events_for(previous, seen)
            version = int((previous or {}).get("version", 0))
            broken_since = (previous or {}).get("broken_since") if seen.broken else None
            if seen.broken and broken_since is None:
                broken_since = self._clock()
            reminded_at = (previous or {}).get("reminded_at") if seen.broken else None
            record = as_record(seen, applied=when, version=version + len(kinds), broken_since=broken_since,
                               reminded_at=reminded_at)
            events = [self._event(kind, seen.account_id, record, f"v{version + offset}")
                      for offset, kind in enumerate(kinds, start=1)] if self._sending else []
            if self.ledger.write(seen.account_id, revision, record, events=events, now=self._clock(),
                                 reminder_at=self._reminder_at(record)):
                record_account_change(source, "applied" if kinds else "unchanged")
                return "applied" if kinds else "unchanged"
        raise ServiceBusy("The account's state is being updated elsewhere; try again shortly",
                          headers={"Retry-After": "1"})

    def _reminder_at(self, record: dict[str, Any]) -> float | None:
        # While broken (and events are sent), a reminder is due RECONNECT_REMINDER after the last word.
        if not self._sending or record.get("broken_since") is None or record.get("deleted"):
            return None
        return (record.get("reminded_at") or record["broken_since"]) + self.reminder_seconds

    def deleted_here(self, account: Account, source: str) -> str:
        """This service has just deleted the account (as read just before): announced once, seen here or not."""
        gone = replace(observed(account), deleted=True, deleted_here=True, reason_code=None, reason_text=None)
        return self.apply(gone, (self._clock(), time.time_ns()), source)

    def observe_event(self, account_id: str, owner_id: str | None, event_date: Any, kind: str) -> str:
        """A verified StackOne account.* event: the account is fetched live (the event carries no status)."""
        when = (event_time(event_date) or self._clock(), time.time_ns())
        # Background in StackOne's budget: a burst of webhooks must not spend what mints need (StackOne retries a 503).
        with StackOneClient.background():
            account = None if kind == ACCOUNT_DELETED else self._client.get_account(account_id)
        if account is None:
            return self.apply(Observation(account_id, owner_id, deleted=True), when, "webhook")
        if owner_id and account.origin_owner_id != owner_id:
            return "unchanged"  # an event naming another owner than StackOne's account says: believe neither
        return self.apply(observed(account), when, "webhook")

    def reconcile_owner(self, owner_id: str) -> dict[str, int]:
        """Compare the owner's known accounts with StackOne's list (every page); differences become events."""
        when = (self._clock(), time.time_ns())
        live = {a.id: a for a in self._client.list_accounts(owner_id)}
        counts = {"applied": 0, "unchanged": 0, "stale": 0, "inferred_missing": 0}
        for account in live.values():
            counts[self.apply(observed(account), when, "reconcile")] += 1
        for account_id in self.ledger.owner_accounts(owner_id):
            if account_id in live:
                continue
            # Known here, gone at StackOne: its account.deleted was missed.
            if self.apply(Observation(account_id, owner_id, deleted=True), when, "reconcile") == "applied":
                counts["inferred_missing"] += 1
                record_account_change("reconcile", "inferred_missing")
        return counts

    def remind(self, claim: Claim) -> bool:
        """A claimed reminder: queue a fresh connection.broken if the account is still broken and its reminder is
        due (the next one is then due RECONNECT_REMINDER later); True when one was queued."""
        account_id, now = claim.id, self._clock()
        for _ in range(WRITE_ATTEMPTS):
            record, revision = self.ledger.read(account_id)
            if not record or record.get("deleted") or record.get("broken_since") is None or not self._sending:
                self.ledger.finish(claim)  # repaired or gone meanwhile: nothing more to remind of
                return False
            last = record.get("reminded_at") or record["broken_since"]
            if now - last < self.reminder_seconds:
                self.ledger.schedule(REMIND, account_id, last + self.reminder_seconds)
                return False
            record["reminded_at"] = now
            event = self._event(BROKE, account_id, record, f"v{record.get('version')}-r{int(now)}", reminder=True)
            if self.ledger.write(account_id, revision, record, events=[event], now=now,
                                 reminder_at=self._reminder_at(record)):
                return True
        return False  # written elsewhere meanwhile: the lease lapses and the reminder is looked at again

    def _event(self, kind: str, account_id: str, record: dict[str, Any], step: str,
               reminder: bool = False) -> dict[str, Any]:
        data = {"accountId": account_id, "ownerId": record.get("owner_id"), "provider": record.get("provider"),
                "label": record.get("label"), "status": record.get("status")}
        if kind == BROKE:
            data["reason"] = {"code": record.get("reason_code"), "description": record.get("reason_text")}
            data["reminder"] = reminder
            data["reconnect"] = None  # minted when sent, so every try carries a link that works
        # The same change always makes the same id: a duplicate delivery carries the same webhook-id.
        event_id = "evt_" + digest(account_id, step, kind)[:32]
        stamp = iso_utc(self._clock())
        # Not in `data`: who the reconnect link is minted for (owner name, origin_username), as StackOne recorded it.
        return {"id": event_id, "type": kind, "timestamp": stamp, "data": data,
                "owner_name": record.get("owner_name"), "origin_username": record.get("origin_username")}
