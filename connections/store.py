"""Each account's last applied state, and which owners and accounts are known, in the shared state."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from stackone.directory import owner_key
from state import SharedState
from state.lock import held

KEEP_SECONDS = 30 * 24 * 3600  # a deleted account's record is kept this long (a late webhook is then stale)


def _hashed(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ConnectionStore:
    """Records per account, an index of each owner's accounts and of the owners; a lock per key."""

    def __init__(self, state: SharedState) -> None:
        self._state = state

    @contextmanager
    def locked(self, name: str, wait: float = 10.0) -> Iterator[None]:
        """Hold a lock (state.lock) for the block, across every worker and host; 503 if it cannot be had in `wait` s."""
        with held(self._state, f"conn-lock:{_hashed(name)}", give_up_at=time.monotonic() + wait,
                  busy="The account's state is being updated elsewhere; try again shortly"):
            yield

    def record(self, account_id: str) -> dict[str, Any] | None:
        """The account's last applied state, or None."""
        value = self._state.get(f"conn:{_hashed(account_id)}")
        return value if isinstance(value, dict) else None

    def keep(self, account_id: str, record: dict[str, Any]) -> None:
        """Store the account's state and index it under its owner (the owner under the owners)."""
        self._state.set(f"conn:{_hashed(account_id)}", record, ttl=KEEP_SECONDS)
        owner = record.get("owner_id")
        if not owner or account_id in self.owner_accounts(owner):
            return  # already indexed: the common case takes no lock
        with self.locked(f"owner:{owner}"):
            accounts = self.owner_accounts(owner)
            if account_id not in accounts:
                self._state.set(f"conn-owner:{owner_key(owner)}", sorted({*accounts, account_id}), ttl=KEEP_SECONDS)
        self.remember_owner(owner)

    def remember_owner(self, owner_id: str) -> None:
        """Make the owner one that reconciliation visits (an owner whose every webhook was missed included)."""
        if owner_id in self.owners():
            return
        with self.locked("owners"):
            owners = self.owners()
            if owner_id not in owners:
                self._state.set("conn-owners", sorted({*owners, owner_id}), ttl=KEEP_SECONDS)

    def owner_accounts(self, owner_id: str) -> list[str]:
        """The ids of the owner's accounts ever applied."""
        value = self._state.get(f"conn-owner:{owner_key(owner_id)}")
        return [str(v) for v in value] if isinstance(value, list) else []

    def owners(self) -> list[str]:
        """Every owner with an applied account."""
        value = self._state.get("conn-owners")
        return [str(v) for v in value] if isinstance(value, list) else []
