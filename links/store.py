"""Where links are kept: the LinkStore contract, and MemoryLinkStore, the model both backends are held to.

Backends: Redis (links/store_redis.py: a hash per link, a sorted set per owner, one of reminders, Lua over one hash
tag) for a fleet, SQLite (links/store_sqlite.py: one table in STATE_DIR's database) on one host. Every operation
reads or writes one link, one owner's recent links or the due reminders: nothing scans all links or all owners.

Rules every backend keeps (tests/test_link_store.py checks them against this model):
- a link is found by its URL secret's digest (a click, which names no owner) or by (owner, handle): another owner's
  handle is None, exactly as an unknown one;
- a record is kept HORIZON after it was made (links.model), then it is gone: found by nothing, listed nowhere;
- click, complete and withdraw are compare-and-set on the stored record under links.model's rules, atomic across
  processes and hosts; each answers a Change: the link as it is now and whether this call changed it;
- a link created with a reminder (`expiring_due_at`) has one entry in the due index; claim_reminders takes the due
  ones for a lease (nobody else takes them until it ends; a holder that dies leaves them to the next claim), and
  finish_reminder drops one for good. Completing or withdrawing a link drops its entry; an entry whose link is no
  longer live when it comes due is dropped by the claim, not handed out. So `link.expiring` goes out once per link,
  at least once (a sender that dies after sending sends again: the event's id must be the link's, for receivers).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from links.model import Link
from state.keys import owner_key

PAGE, LONGEST_PAGE = 50, 100  # an owner's listing: the default page, and the most one call reads


@dataclass(frozen=True)
class Change:
    """What a click, a completion or a withdrawal did: the link as it now is (None: unknown), and whether this call
    did it."""

    link: Link | None
    applied: bool = False


@dataclass(frozen=True)
class Reminder:
    """A due link.expiring, taken for a lease: the link (live when claimed) and the lease's end."""

    link: Link
    until: float


class LinkStore(Protocol):
    """What the link routes, the caps and the reminder loop need of a store."""

    def create(self, link: Link, now: float) -> bool:
        """Store a new link, index it under its owner and set its reminder; False (nothing written) when its
        handle or digest is taken already (draw again)."""
        ...

    def by_secret(self, digest: str, now: float) -> Link | None:
        """The link whose URL secret has this digest, or None."""
        ...

    def find(self, owner_id: str, handle: str, now: float) -> Link | None:
        """The owner's link with this handle, or None (unknown, or another owner's)."""
        ...

    def owner_links(self, owner_id: str, now: float, *, limit: int = PAGE, offset: int = 0) -> list[Link]:
        """A page of the owner's links, newest first (ties: digest descending); at most LONGEST_PAGE."""
        ...

    def live_links(self, owner_id: str, now: float) -> list[Link]:
        """The owner's live links, newest first (what the caps count): only the last LONGEST_LIFETIME is read."""
        ...

    def click(self, digest: str, now: float) -> Change:
        """Record a click on the link with this digest, atomically, only while it is live."""
        ...

    def complete(self, owner_id: str, handle: str, account_id: str, now: float) -> Change:
        """Mark the owner's link completed by `account_id`, once; its reminder is dropped."""
        ...

    def withdraw(self, owner_id: str, handle: str, now: float) -> Change:
        """Withdraw the owner's link, only while live; its reminder is dropped."""
        ...

    def claim_reminders(self, now: float, lease: float, limit: int) -> list[Reminder]:
        """Take up to `limit` reminders due by `now` (soonest first, ties by digest) until now + lease, atomically;
        those whose link is gone or no longer live are dropped instead and not returned (the list's order is
        unspecified)."""
        ...

    def finish_reminder(self, reminder: Reminder) -> bool:
        """Drop a claimed reminder for good, if the lease is still ours; True when it was."""
        ...


def page_bounds(limit: int, offset: int) -> tuple[int, int]:
    """A listing's limit and offset, bounded (a caller's number never makes a store read more than LONGEST_PAGE)."""
    return max(0, min(limit, LONGEST_PAGE)), max(0, offset)


def newest_first(links) -> list[Link]:
    """Links in listing order: newest first, ties by digest descending (the backends' index order)."""
    return sorted(links, key=lambda link: (link.created, link.digest), reverse=True)


class MemoryLinkStore:
    """The model: the LinkStore contract over dicts, in one process, calling links.model's rules."""

    def __init__(self) -> None:
        self.links: dict[str, Link] = {}  # by digest
        self.due: dict[str, float] = {}  # reminders, by digest

    def _visible(self, digest: str | None, now: float) -> Link | None:
        link = self.links.get(digest) if digest else None
        return link if link is not None and link.visible(now) else None

    def _owned(self, owner_id: str, handle: str, now: float) -> Link | None:
        found = [link for link in self.links.values() if link.handle == handle]
        link = self._visible(found[0].digest, now) if found else None
        return link if link is not None and owner_key(link.owner_id) == owner_key(owner_id) else None

    def create(self, link: Link, now: float) -> bool:
        """As LinkStore.create."""
        if link.digest in self.links or any(other.handle == link.handle for other in self.links.values()):
            return False
        self.links[link.digest] = link
        if link.expiring_due_at is not None:
            self.due[link.digest] = link.expiring_due_at
        return True

    def by_secret(self, digest: str, now: float) -> Link | None:
        """As LinkStore.by_secret."""
        return self._visible(digest, now)

    def find(self, owner_id: str, handle: str, now: float) -> Link | None:
        """As LinkStore.find."""
        return self._owned(owner_id, handle, now)

    def owner_links(self, owner_id: str, now: float, *, limit: int = PAGE, offset: int = 0) -> list[Link]:
        """As LinkStore.owner_links."""
        limit, offset = page_bounds(limit, offset)
        mine = [link for link in self.links.values() if owner_key(link.owner_id) == owner_key(owner_id)
                and link.visible(now)]
        return newest_first(mine)[offset:offset + limit]

    def live_links(self, owner_id: str, now: float) -> list[Link]:
        """As LinkStore.live_links."""
        mine = [link for link in self.links.values() if owner_key(link.owner_id) == owner_key(owner_id)]
        return newest_first(link for link in mine if link.live(now))

    def _apply(self, link: Link | None, changed: Link | None, *, drop_reminder: bool) -> Change:
        if link is None:
            return Change(None)
        if changed is None:
            return Change(link)
        self.links[link.digest] = changed
        if drop_reminder:
            self.due.pop(link.digest, None)
        return Change(changed, True)

    def click(self, digest: str, now: float) -> Change:
        """As LinkStore.click."""
        link = self._visible(digest, now)
        return self._apply(link, link and link.click(now), drop_reminder=False)

    def complete(self, owner_id: str, handle: str, account_id: str, now: float) -> Change:
        """As LinkStore.complete."""
        link = self._owned(owner_id, handle, now)
        return self._apply(link, link and link.complete(now, account_id), drop_reminder=True)

    def withdraw(self, owner_id: str, handle: str, now: float) -> Change:
        """As LinkStore.withdraw."""
        link = self._owned(owner_id, handle, now)
        return self._apply(link, link and link.withdraw(now), drop_reminder=True)

    def claim_reminders(self, now: float, lease: float, limit: int) -> list[Reminder]:
        """As LinkStore.claim_reminders."""
        due = sorted((at, digest) for digest, at in self.due.items() if at <= now)[:max(0, limit)]
        taken = []
        for _, digest in due:
            link = self._visible(digest, now)
            if link is None or not link.live(now):
                del self.due[digest]
                continue
            self.due[digest] = now + lease
            taken.append(Reminder(link, now + lease))
        return taken

    def finish_reminder(self, reminder: Reminder) -> bool:
        """As LinkStore.finish_reminder."""
        if self.due.get(reminder.link.digest) != reminder.until:
            return False
        del self.due[reminder.link.digest]
        return True


def open_link_store(state, state_dir: str) -> LinkStore:
    """The link store beside the app's shared state: Redis's structures with Redis, else STATE_DIR's database."""
    from state.redis_state import RedisState

    if isinstance(state, RedisState):
        from links.store_redis import RedisLinkStore

        return RedisLinkStore(state)
    from links.store_sqlite import SqliteLinkStore

    return SqliteLinkStore(state_dir)
