"""The connection ledger: each account's applied state, the events its changes make, and the due index (first
deliveries, retries, reminders, passes), written together and claimed by due time with leases; and events that belong
to no account (an Auth Link's), queued once each (queue_once).

Backends: Redis (connections/ledger_redis.py, Lua scripts over one hash tag) for a fleet, SQLite
(connections/ledger_sqlite.py) on one host, and MemoryLedger below: the model the property tests hold both to.
Nothing here reads or writes in proportion to the number of owners or accounts, but `known_accounts` (a reconcile
pass, which reads every account from StackOne anyway).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

# The due index's kinds. First deliveries and retries are apart so that a backlog of retries never delays a first
# attempt; reminders are per account; passes are the fleet's scheduled jobs (the reconcile pass), one holder at once.
NEW, RETRY, REMIND, PASS = "new", "retry", "remind", "pass"
KINDS = (NEW, RETRY, REMIND, PASS)
KEEP_DELETED = 30 * 24 * 3600  # a deleted account's record is kept this long: a late webhook then reads as stale
# An event queued with queue_once is remembered this long after (delivered or not), and not queued again meanwhile:
# far longer than StackOne retries a webhook or a reminder's lease lapses.
KEEP_QUEUED = KEEP_DELETED
# What one tick takes at most of each kind: first attempts ahead of retries, so a backlog never holds them back.
# At most what one pass sends within one lease (connections.outbox.lease_for): twice the sends in flight of first
# attempts, once of retries.
DUE_BATCH = {NEW: 16, RETRY: 8, REMIND: 50}


@dataclass(frozen=True)
class Claim:
    """A due entry taken for a lease: its kind, its id (an event id, an account id, a pass name), the lease's end.

    Until the lease ends nobody else takes it; a holder that dies leaves it to be taken again then."""

    kind: str
    id: str
    until: float


@dataclass(frozen=True)
class Queued:
    """A queued event as stored: the event, and how many attempts to deliver it failed."""

    event: dict[str, Any]
    attempts: int = 0
    last_error: str | None = None


class Ledger(Protocol):
    """What the connection monitor and the delivery loop need of a store."""

    def read(self, account_id: str) -> tuple[dict[str, Any] | None, int]:
        """The account's record and its revision (None and 0 when never written)."""
        ...

    def write(self, account_id: str, revision: int, record: dict[str, Any], *, events: Iterable[dict[str, Any]] = (),
              reminder_at: float | None = None, now: float) -> bool:
        """All or nothing, and only if the account is still at `revision`: store the record (revision + 1), index it
        under its owner (a deleted one leaves the indexes and is kept KEEP_DELETED), queue each event due `now`
        (an event id already queued is left as it is), and set (or, with None, clear) the account's reminder.
        False when another writer came first: nothing was written."""
        ...

    def queue_once(self, events: Iterable[dict[str, Any]], *, now: float) -> int:
        """Queue events that belong to no account (an Auth Link's), each due `now`, each once, atomically: an id
        that queue_once took in the last KEEP_QUEUED seconds (delivered since or not), or that is queued still, is
        left as it is. Returns how many were queued by this call."""
        ...

    def owner_accounts(self, owner_id: str) -> list[str]:
        """The ids of the owner's accounts that are not deleted."""
        ...

    def known_accounts(self) -> Iterator[str]:
        """Every account not deleted (a reconcile pass's comparison; read in pages, never on a request path)."""
        ...

    def claim(self, now: float, lease: float, limits: dict[str, int]) -> list[Claim]:
        """Take up to limits[kind] entries of each kind due by `now` (the soonest due first; the list's order is
        unspecified), each until now + lease, atomically."""
        ...

    def queued(self, event_id: str) -> Queued | None:
        """A queued event, or None once delivered or given up."""
        ...

    def finish(self, claim: Claim) -> None:
        """The claimed entry is done: an event delivered (or given up) is dropped with its due entries (first
        attempt and retry alike); a reminder or pass leaves the index."""
        ...

    def retry(self, claim: Claim, at: float, error: str) -> bool:
        """The claimed delivery failed: count the attempt and make it due again at `at`, if still held by us; True
        when it was (False: the lease had lapsed and the event is another sender's now)."""
        ...

    def schedule(self, kind: str, entry_id: str, at: float) -> None:
        """Make an entry (a pass, a reminder) due at `at`, whether or not it is due already."""
        ...

    def ensure(self, kind: str, entry_id: str, at: float) -> bool:
        """Make an entry due at `at` only if it is not in the index at all (held ones included); True if added."""
        ...

    def backlog(self) -> int:
        """How many events are queued (first attempts and retries)."""
        ...

    def queued_ids(self, limit: int = 100) -> list[str]:
        """The ids of up to `limit` queued events, first attempts then retries, each soonest due first."""
        ...


def encode(value: Any) -> str:
    """The stored JSON text of a record or event."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


class MemoryLedger:
    """The model: the Ledger contract over dicts, in one process (the property tests' reference)."""

    def __init__(self) -> None:
        self.records: dict[str, tuple[dict[str, Any], int]] = {}
        self.events: dict[str, Queued] = {}
        self.due: dict[tuple[str, str], float] = {}
        self.once: dict[str, float] = {}  # queue_once's marks: event id -> until when

    def read(self, account_id: str) -> tuple[dict[str, Any] | None, int]:
        """As Ledger.read."""
        record, revision = self.records.get(account_id, (None, 0))
        return (json.loads(encode(record)) if record is not None else None), revision

    def write(self, account_id: str, revision: int, record: dict[str, Any], *, events: Iterable[dict[str, Any]] = (),
              reminder_at: float | None = None, now: float) -> bool:
        """As Ledger.write."""
        if self.records.get(account_id, (None, 0))[1] != revision:
            return False
        self.records[account_id] = (json.loads(encode(record)), revision + 1)
        for event in events:
            if event["id"] not in self.events:
                self.events[event["id"]] = Queued(json.loads(encode(event)))
                self.due[(NEW, event["id"])] = now
        if reminder_at is None or record.get("deleted"):
            self.due.pop((REMIND, account_id), None)
        else:
            self.due[(REMIND, account_id)] = reminder_at
        return True

    def queue_once(self, events: Iterable[dict[str, Any]], *, now: float) -> int:
        """As Ledger.queue_once."""
        queued = 0
        for event in events:
            if self.once.get(event["id"], now) > now:
                continue
            self.once[event["id"]] = now + KEEP_QUEUED
            if event["id"] not in self.events:
                self.events[event["id"]] = Queued(json.loads(encode(event)))
                self.due[(NEW, event["id"])] = now
                queued += 1
        return queued

    def owner_accounts(self, owner_id: str) -> list[str]:
        """As Ledger.owner_accounts."""
        return sorted(a for a, (r, _) in self.records.items() if r.get("owner_id") == owner_id and not r.get("deleted"))

    def known_accounts(self) -> Iterator[str]:
        """As Ledger.known_accounts."""
        return iter(sorted(a for a, (r, _) in self.records.items() if not r.get("deleted")))

    def claim(self, now: float, lease: float, limits: dict[str, int]) -> list[Claim]:
        """As Ledger.claim."""
        taken = []
        for kind in KINDS:
            due = sorted((at, entry) for (k, entry), at in self.due.items() if k == kind and at <= now)
            for _, entry in due[:limits.get(kind, 0)]:
                self.due[(kind, entry)] = now + lease
                taken.append(Claim(kind, entry, now + lease))
        return taken

    def queued(self, event_id: str) -> Queued | None:
        """As Ledger.queued."""
        return self.events.get(event_id)

    def finish(self, claim: Claim) -> None:
        """As Ledger.finish."""
        for kind in (NEW, RETRY) if claim.kind in (NEW, RETRY) else (claim.kind,):
            self.due.pop((kind, claim.id), None)
        if claim.kind in (NEW, RETRY):
            self.events.pop(claim.id, None)

    def retry(self, claim: Claim, at: float, error: str) -> bool:
        """As Ledger.retry."""
        if self.due.get((claim.kind, claim.id)) != claim.until or claim.id not in self.events:
            return False
        queued = self.events[claim.id]
        self.events[claim.id] = Queued(queued.event, queued.attempts + 1, error)
        del self.due[(claim.kind, claim.id)]
        self.due[(RETRY, claim.id)] = at
        return True

    def schedule(self, kind: str, entry_id: str, at: float) -> None:
        """As Ledger.schedule."""
        self.due[(kind, entry_id)] = at

    def ensure(self, kind: str, entry_id: str, at: float) -> bool:
        """As Ledger.ensure."""
        if (kind, entry_id) in self.due:
            return False
        self.due[(kind, entry_id)] = at
        return True

    def backlog(self) -> int:
        """As Ledger.backlog."""
        return sum(kind in (NEW, RETRY) for kind, _ in self.due)

    def queued_ids(self, limit: int = 100) -> list[str]:
        """As Ledger.queued_ids."""
        found = [e for kind in (NEW, RETRY) for _, e in sorted((at, e) for (k, e), at in self.due.items() if k == kind)]
        return found[:limit]


def open_ledger(state, settings) -> Ledger:
    """The ledger beside the app's shared state: Redis's structures with Redis, else SQLite in STATE_DIR. What the
    shared state of old held (known accounts, queued events) is imported once."""
    from connections.folder_import import import_folder, import_redis
    from state.redis_state import RedisState

    reminder = settings.events.reconnect_reminder if settings.events.app_webhook_url else None
    if isinstance(state, RedisState):
        from connections.ledger_redis import RedisLedger

        ledger = RedisLedger(state)
        import_redis(state, ledger, reminder)
        return ledger
    from connections.ledger_sqlite import SqliteLedger

    ledger = SqliteLedger(settings.state.state_dir)
    import_folder(settings.state.state_dir, ledger, reminder)
    return ledger
