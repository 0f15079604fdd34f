"""The connection ledger on one host: tables in STATE_DIR's SQLite database (WAL, beside the shared state's), every
read-then-write in a short BEGIN IMMEDIATE transaction, due entries claimed with UPDATE ... RETURNING."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from typing import Any

from connections.ledger import KEEP_DELETED, KEEP_QUEUED, KINDS, NEW, REMIND, RETRY, Claim, Queued, encode
from state.keys import owner_key
from state.sqlite_db import open_database

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS conn_records (account_id TEXT PRIMARY KEY, owner_key TEXT, deleted INTEGER NOT NULL, "
    "revision INTEGER NOT NULL, record TEXT NOT NULL, expires REAL)",
    "CREATE INDEX IF NOT EXISTS conn_records_owner ON conn_records (owner_key) WHERE deleted = 0",
    "CREATE INDEX IF NOT EXISTS conn_records_expiry ON conn_records (expires) WHERE expires IS NOT NULL",
    "CREATE TABLE IF NOT EXISTS conn_events (id TEXT PRIMARY KEY, event TEXT NOT NULL, "
    "attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT)",
    "CREATE TABLE IF NOT EXISTS conn_due (kind TEXT NOT NULL, id TEXT NOT NULL, at REAL NOT NULL, "
    "PRIMARY KEY (kind, id))",
    "CREATE INDEX IF NOT EXISTS conn_due_time ON conn_due (kind, at)",
    # queue_once's marks: an event id taken, until when.
    "CREATE TABLE IF NOT EXISTS conn_once (id TEXT PRIMARY KEY, until REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS conn_once_until ON conn_once (until)",
)


class SqliteLedger:
    """Implements connections.ledger.Ledger in STATE_DIR's database (state/sqlite_db.py), beside the shared state."""

    def __init__(self, folder: str, *, clock=time.time) -> None:
        self._database = open_database(folder, SCHEMA)
        self._clock = clock

    def _transaction(self, immediate: bool = True):
        # Short: no network call inside, so the host's write lock is held for microseconds.
        return self._database.transaction(immediate=immediate)

    def read(self, account_id: str) -> tuple[dict[str, Any] | None, int]:
        """As Ledger.read."""
        with self._transaction(immediate=False) as db:
            row = db.execute("SELECT record, revision, expires FROM conn_records WHERE account_id = ?",
                             (account_id,)).fetchone()
        if row is None or (row[2] is not None and row[2] <= self._clock()):
            return None, (row[1] if row else 0)
        return json.loads(row[0]), row[1]

    def write(self, account_id: str, revision: int, record: dict[str, Any], *, events: Iterable[dict[str, Any]] = (),
              reminder_at: float | None = None, now: float) -> bool:
        """As Ledger.write: one transaction."""
        deleted = bool(record.get("deleted"))
        owner = record.get("owner_id")
        with self._transaction() as db:
            row = db.execute("SELECT revision FROM conn_records WHERE account_id = ?", (account_id,)).fetchone()
            if (row[0] if row else 0) != revision:
                return False
            db.execute("INSERT INTO conn_records (account_id, owner_key, deleted, revision, record, expires) "
                       "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (account_id) DO UPDATE SET "
                       "owner_key = excluded.owner_key, deleted = excluded.deleted, revision = excluded.revision, "
                       "record = excluded.record, expires = excluded.expires",
                       (account_id, owner_key(owner) if owner else None, int(deleted), revision + 1, encode(record),
                        self._clock() + KEEP_DELETED if deleted else None))
            for event in events:
                if db.execute("INSERT OR IGNORE INTO conn_events (id, event) VALUES (?, ?)",
                              (event["id"], encode(event))).rowcount:
                    db.execute("INSERT OR IGNORE INTO conn_due (kind, id, at) VALUES (?, ?, ?)",
                               (NEW, event["id"], now))
            if reminder_at is None or deleted:
                db.execute("DELETE FROM conn_due WHERE kind = ? AND id = ?", (REMIND, account_id))
            else:
                db.execute("INSERT INTO conn_due (kind, id, at) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE "
                           "SET at = excluded.at", (REMIND, account_id, reminder_at))
            if deleted:  # a few expired deletions go with each new one, found by their index
                db.execute("DELETE FROM conn_records WHERE rowid IN (SELECT rowid FROM conn_records "
                           "WHERE expires IS NOT NULL AND expires <= ? LIMIT 20)", (self._clock(),))
        return True

    def queue_once(self, events: Iterable[dict[str, Any]], *, now: float) -> int:
        """As Ledger.queue_once: one transaction, which also drops a few lapsed marks."""
        queued = 0
        with self._transaction() as db:
            for event in events:
                # Taken unless a mark is there and has not lapsed (a lapsed one is taken over).
                if not db.execute("INSERT INTO conn_once (id, until) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET "
                                  "until = excluded.until WHERE conn_once.until <= ?",
                                  (event["id"], now + KEEP_QUEUED, now)).rowcount:
                    continue
                if db.execute("INSERT OR IGNORE INTO conn_events (id, event) VALUES (?, ?)",
                              (event["id"], encode(event))).rowcount:
                    db.execute("INSERT OR IGNORE INTO conn_due (kind, id, at) VALUES (?, ?, ?)",
                               (NEW, event["id"], now))
                    queued += 1
            db.execute("DELETE FROM conn_once WHERE rowid IN (SELECT rowid FROM conn_once WHERE until <= ? LIMIT 20)",
                       (now,))
        return queued

    def owner_accounts(self, owner_id: str) -> list[str]:
        """As Ledger.owner_accounts."""
        with self._transaction(immediate=False) as db:
            rows = db.execute("SELECT account_id FROM conn_records WHERE owner_key = ? AND deleted = 0 "
                              "ORDER BY account_id", (owner_key(owner_id),)).fetchall()
        return [r[0] for r in rows]

    def known_accounts(self) -> Iterator[str]:
        """As Ledger.known_accounts: pages of 500 by key, each its own short read."""
        after = ""
        while True:
            with self._transaction(immediate=False) as db:
                rows = db.execute("SELECT account_id FROM conn_records WHERE deleted = 0 AND account_id > ? "
                                  "ORDER BY account_id LIMIT 500", (after,)).fetchall()
            if not rows:
                return
            yield from (r[0] for r in rows)
            after = rows[-1][0]

    def claim(self, now: float, lease: float, limits: dict[str, int]) -> list[Claim]:
        """As Ledger.claim: one transaction."""
        until, taken = now + lease, []
        with self._transaction() as db:
            for kind in KINDS:
                if limits.get(kind, 0) <= 0:
                    continue
                rows = db.execute("UPDATE conn_due SET at = ? WHERE kind = ? AND id IN (SELECT id FROM conn_due "
                                  "WHERE kind = ? AND at <= ? ORDER BY at, id LIMIT ?) RETURNING id",
                                  (until, kind, kind, now, limits[kind])).fetchall()
                taken += [Claim(kind, r[0], until) for r in rows]
        return taken

    def queued(self, event_id: str) -> Queued | None:
        """As Ledger.queued."""
        with self._transaction(immediate=False) as db:
            row = db.execute("SELECT event, attempts, last_error FROM conn_events WHERE id = ?", (event_id,)).fetchone()
        return Queued(json.loads(row[0]), row[1], row[2]) if row else None

    def finish(self, claim: Claim) -> None:
        """As Ledger.finish."""
        kinds = (NEW, RETRY) if claim.kind in (NEW, RETRY) else (claim.kind, claim.kind)
        with self._transaction() as db:
            if claim.kind in (NEW, RETRY):
                db.execute("DELETE FROM conn_events WHERE id = ?", (claim.id,))
            db.execute("DELETE FROM conn_due WHERE kind IN (?, ?) AND id = ?", (*kinds, claim.id))

    def retry(self, claim: Claim, at: float, error: str) -> bool:
        """As Ledger.retry."""
        with self._transaction() as db:
            held = db.execute("SELECT 1 FROM conn_due WHERE kind = ? AND id = ? AND at = ?",
                              (claim.kind, claim.id, claim.until)).fetchone()
            if not held or not db.execute("UPDATE conn_events SET attempts = attempts + 1, last_error = ? WHERE id = ?",
                                          (error[:200], claim.id)).rowcount:
                return False  # no longer ours (the lease lapsed and another took it), or not an event
            db.execute("DELETE FROM conn_due WHERE kind = ? AND id = ?", (claim.kind, claim.id))
            db.execute("INSERT INTO conn_due (kind, id, at) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE "
                       "SET at = excluded.at", (RETRY, claim.id, at))
        return True

    def schedule(self, kind: str, entry_id: str, at: float) -> None:
        """As Ledger.schedule."""
        with self._transaction() as db:
            db.execute("INSERT INTO conn_due (kind, id, at) VALUES (?, ?, ?) ON CONFLICT (kind, id) DO UPDATE "
                       "SET at = excluded.at", (kind, entry_id, at))

    def ensure(self, kind: str, entry_id: str, at: float) -> bool:
        """As Ledger.ensure."""
        with self._transaction() as db:
            return bool(db.execute("INSERT OR IGNORE INTO conn_due (kind, id, at) VALUES (?, ?, ?)",
                                   (kind, entry_id, at)).rowcount)

    def backlog(self) -> int:
        """As Ledger.backlog."""
        with self._transaction(immediate=False) as db:
            return db.execute("SELECT count(*) FROM conn_due WHERE kind IN (?, ?)", (NEW, RETRY)).fetchone()[0]

    def queued_ids(self, limit: int = 100) -> list[str]:
        """As Ledger.queued_ids."""
        with self._transaction(immediate=False) as db:
            rows = db.execute("SELECT id FROM conn_due WHERE kind IN (?, ?) ORDER BY kind = ?, at, id LIMIT ?",
                              (NEW, RETRY, RETRY, limit)).fetchall()
        return [r[0] for r in rows]
