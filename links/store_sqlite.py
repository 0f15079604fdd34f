"""Links on one host: a table in STATE_DIR's SQLite database (state/sqlite_db.py, beside the ledger's), each change a
short BEGIN IMMEDIATE transaction that applies links.model's rule to the row it read.

`auth_links`: one row per link, keyed by the URL secret's digest (the secret is nowhere), with its handle (unique),
its owner's key (identity.owner_key: a SHA-256 of the owner id), `created`, the whole record as JSON, and
`remind_at`: when link.expiring is due, or while claimed the lease's end, NULL once sent or moot. Indexes: the owner's
links by time, the due reminders by time, and `created` for dropping rows past HORIZON (a few with each new link).
"""

from __future__ import annotations

import json
import sqlite3

from links.model import HORIZON, LONGEST_LIFETIME, Link
from links.store import PAGE, Change, Reminder, page_bounds
from state.keys import owner_key
from state.sqlite_db import open_database

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS auth_links (digest TEXT PRIMARY KEY, handle TEXT NOT NULL UNIQUE, "
    "owner_key TEXT NOT NULL, created REAL NOT NULL, link TEXT NOT NULL, remind_at REAL)",
    "CREATE INDEX IF NOT EXISTS auth_links_owner ON auth_links (owner_key, created, digest)",
    "CREATE INDEX IF NOT EXISTS auth_links_due ON auth_links (remind_at, digest) WHERE remind_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS auth_links_created ON auth_links (created)",
)

def _encode(link: Link) -> str:
    return json.dumps(link.as_dict(), separators=(",", ":"))


def _decode(text: str) -> Link:
    return Link.from_dict(json.loads(text))


class SqliteLinkStore:
    """Implements links.store.LinkStore in STATE_DIR's database."""

    def __init__(self, folder: str) -> None:
        self._database = open_database(folder, SCHEMA)

    def create(self, link: Link, now: float) -> bool:
        """As LinkStore.create: one transaction, which also drops a few rows past HORIZON."""
        with self._database.transaction() as db:
            try:
                db.execute("INSERT INTO auth_links (digest, handle, owner_key, created, link, remind_at) "
                           "VALUES (?, ?, ?, ?, ?, ?)", (link.digest, link.handle, owner_key(link.owner_id),
                                                         link.created, _encode(link), link.expiring_due_at))
            except sqlite3.IntegrityError:
                return False  # the digest or the handle is taken
            db.execute("DELETE FROM auth_links WHERE rowid IN (SELECT rowid FROM auth_links WHERE created <= ? "
                       "ORDER BY created LIMIT 20)", (now - HORIZON,))
        return True

    def _one(self, db: sqlite3.Connection, where: str, params: tuple, now: float) -> Link | None:
        row = db.execute(f"SELECT link FROM auth_links WHERE {where} AND created > ?", (*params, now - HORIZON)
                         ).fetchone()
        return _decode(row[0]) if row else None

    def by_secret(self, digest: str, now: float) -> Link | None:
        """As LinkStore.by_secret."""
        return self._one_read("digest = ?", (digest,), now)

    def _one_read(self, where: str, params: tuple, now: float) -> Link | None:
        with self._database.transaction(immediate=False) as db:
            return self._one(db, where, params, now)

    def find(self, owner_id: str, handle: str, now: float) -> Link | None:
        """As LinkStore.find."""
        return self._one_read("handle = ? AND owner_key = ?", (handle, owner_key(owner_id)), now)

    def owner_links(self, owner_id: str, now: float, *, limit: int = PAGE, offset: int = 0) -> list[Link]:
        """As LinkStore.owner_links: one indexed range."""
        limit, offset = page_bounds(limit, offset)
        rows = self._database.read("SELECT link FROM auth_links WHERE owner_key = ? AND created > ? "
                                   "ORDER BY created DESC, digest DESC LIMIT ? OFFSET ?",
                                   (owner_key(owner_id), now - HORIZON, limit, offset))
        return [_decode(r[0]) for r in rows]

    def live_links(self, owner_id: str, now: float) -> list[Link]:
        """As LinkStore.live_links: the owner's last LONGEST_LIFETIME, by the index."""
        rows = self._database.read("SELECT link FROM auth_links WHERE owner_key = ? AND created >= ? "
                                   "ORDER BY created DESC, digest DESC", (owner_key(owner_id), now - LONGEST_LIFETIME))
        return [link for link in (_decode(r[0]) for r in rows) if link.live(now)]

    def _apply(self, where: str, params: tuple, now: float, rule, *, drop_reminder: bool) -> Change:
        with self._database.transaction() as db:
            link = self._one(db, where, params, now)
            changed = rule(link) if link is not None else None
            if changed is None:
                return Change(link)
            db.execute("UPDATE auth_links SET link = ?" + (", remind_at = NULL" if drop_reminder else "") +
                       " WHERE digest = ?", (_encode(changed), link.digest))
        return Change(changed, True)

    def click(self, digest: str, now: float) -> Change:
        """As LinkStore.click: one transaction."""
        return self._apply("digest = ?", (digest,), now, lambda link: link.click(now), drop_reminder=False)

    def complete(self, owner_id: str, handle: str, account_id: str, now: float) -> Change:
        """As LinkStore.complete: one transaction."""
        return self._apply("handle = ? AND owner_key = ?", (handle, owner_key(owner_id)), now,
                           lambda link: link.complete(now, account_id), drop_reminder=True)

    def withdraw(self, owner_id: str, handle: str, now: float) -> Change:
        """As LinkStore.withdraw: one transaction."""
        return self._apply("handle = ? AND owner_key = ?", (handle, owner_key(owner_id)), now,
                           lambda link: link.withdraw(now), drop_reminder=True)

    def claim_reminders(self, now: float, lease: float, limit: int) -> list[Reminder]:
        """As LinkStore.claim_reminders: one transaction (UPDATE ... RETURNING takes them, the moot ones are
        dropped)."""
        until, taken = now + lease, []
        with self._database.transaction() as db:
            rows = db.execute("UPDATE auth_links SET remind_at = ? WHERE digest IN (SELECT digest FROM auth_links "
                              "WHERE remind_at IS NOT NULL AND remind_at <= ? ORDER BY remind_at, digest LIMIT ?) "
                              "RETURNING digest, created, link", (until, now, max(0, limit))).fetchall()
            for digest, created, text in rows:
                link = _decode(text)
                if created > now - HORIZON and link.live(now):
                    taken.append(Reminder(link, until))
                else:
                    db.execute("UPDATE auth_links SET remind_at = NULL WHERE digest = ?", (digest,))
        return taken

    def finish_reminder(self, reminder: Reminder) -> bool:
        """As LinkStore.finish_reminder: one compare-and-clear."""
        return bool(self._database.write("UPDATE auth_links SET remind_at = NULL WHERE digest = ? AND remind_at = ?",
                                         (reminder.link.digest, reminder.until)))
