"""The one-host backend: shared state as JSON rows with an expiry in STATE_DIR's SQLite database."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any

from errors import StateUnavailable
from state.sqlite_db import DEFAULT_WAIT, Database, open_database

log = logging.getLogger(__name__)

SCHEMA = (
    # STRICT: a value is always text (JSON) and an expiry always a number, whoever wrote the row.
    "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL) STRICT",
    # Expired rows are found through this index, oldest first, never by reading every row.
    "CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires) WHERE expires IS NOT NULL",
)
PRUNE_EVERY = 64  # writes by this process between two removals of expired rows
PRUNE_BATCH = 256  # rows removed at most per removal: more than PRUNE_EVERY, so removal outpaces expiry

_GET = "SELECT value FROM kv WHERE key = ? AND (expires IS NULL OR expires > ?)"
_SET = ("INSERT INTO kv (key, value, expires) VALUES (?, ?, ?) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value, expires = excluded.expires")
# Stores only over an absent or expired row: one statement, atomic on its own (SQLite runs it as one transaction;
# a writer that committed between its read and its write makes it fail busy, and it is run again).
_ADD = _SET + " WHERE kv.expires IS NOT NULL AND kv.expires <= ?"
_PRUNE = ("DELETE FROM kv WHERE key IN (SELECT key FROM kv WHERE expires IS NOT NULL AND expires <= ? "
          "ORDER BY expires LIMIT ?)")


def _encode(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


class SQLiteState:
    """Implements state.SharedState on the host's database; a database that cannot answer raises StateUnavailable.

    `clock` gives the time expiries are measured against (time.time; a test passes its own).
    """

    def __init__(self, database: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.database = database
        self.clock = clock
        self._writes = 0

    def _decode(self, raw: str) -> Any | None:
        try:
            return json.loads(raw)
        except ValueError:
            # Never the content: it may hold whatever the damage left there.
            log.warning("shared state: an unreadable entry was ignored")
            return None

    def get(self, key: str) -> Any | None:
        """The value, or None when absent, expired or unreadable."""
        rows = self.database.read(_GET, (key, self.clock()))
        return self._decode(rows[0][0]) if rows else None

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store value for ttl seconds (None: until replaced); a reader sees the old value or the new, never half."""
        # One statement that reads nothing first: it holds the write lock for itself alone, no BEGIN needed.
        self.database.write(_SET, (key, _encode(value), None if ttl is None else self.clock() + ttl))
        self._wrote()

    def add(self, key: str, value: Any, ttl: float) -> bool:
        """Store value only if the key is absent or expired; one winner across every process on the host."""
        now = self.clock()
        stored = self.database.write(_ADD, (key, _encode(value), now + ttl, now)) == 1
        self._wrote()
        return stored

    def delete(self, key: str) -> None:
        """Remove the key if present."""
        self.database.write("DELETE FROM kv WHERE key = ?", (key,))

    def delete_if(self, key: str, value: Any) -> bool:
        """Remove the key only while it holds `value` (and has not expired), atomically; True if this call removed it.

        What a lock's holder releases with: a lock that expired and was taken by another holder is left to them.
        """
        with self.database.transaction() as conn:
            rows = conn.execute(_GET, (key, self.clock())).fetchall()
            if not rows or self._decode(rows[0][0]) != value:
                return False
            conn.execute("DELETE FROM kv WHERE key = ?", (key,))
        return True

    def renew_if(self, key: str, value: Any, ttl: float) -> bool:
        """Make the key expire `ttl` seconds from now only while it holds `value` (and has not expired); True if this
        call renewed it. What a lock's holder keeps its lease with."""
        with self.database.transaction() as conn:
            now = self.clock()
            rows = conn.execute(_GET, (key, now)).fetchall()
            if not rows or self._decode(rows[0][0]) != value:
                return False
            conn.execute("UPDATE kv SET expires = ? WHERE key = ?", (now + ttl, key))
        return True

    def prune(self, limit: int = PRUNE_BATCH) -> int:
        """Remove up to `limit` expired rows, oldest first, in one short transaction; returns how many."""
        with self.database.transaction() as conn:
            return conn.execute(_PRUNE, (self.clock(), limit)).rowcount

    def _wrote(self) -> None:
        # A removal after so many writes, not on every one: a write stays one statement on the hot path.
        self._writes += 1
        if self._writes >= PRUNE_EVERY:
            self._writes = 0
            try:
                self.prune()
            except StateUnavailable:
                pass  # the write itself succeeded; the next removal takes these rows

    def ping(self) -> str | None:
        """None while the database answers and can be written, else why not."""
        return self.database.ping()


def open_sqlite_state(folder: str, *, wait: float = DEFAULT_WAIT,
                      clock: Callable[[], float] = time.time) -> SQLiteState:
    """Open (and create, owner-only) STATE_DIR and its database; refuse a folder others could write into."""
    return SQLiteState(open_database(folder, SCHEMA, wait=wait), clock=clock)
