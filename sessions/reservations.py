"""Race-safe caps: an owner's creates are decided one at a time across every host, and each minted session holds a
reservation (in the shared state, expiring with the session) until the account it makes exists."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from policy.caps import Reservation
from state import SharedState, keys
from state.lock import Lease, held


class Reservations:
    """Each owner's pending reservations, and the per-owner lock under which caps are checked and sessions minted."""

    def __init__(self, state: SharedState) -> None:
        self._state = state

    @contextmanager
    def owner_locked(self, owner_id: str, deadline: float | None) -> Iterator[Lease]:
        """Hold the owner's lock (state.lock: renewed while held) for the block; 503 service_busy if it cannot be had
        before the deadline."""
        with held(self._state, keys.caps_lock(owner_id), give_up_at=deadline,
                  busy="Another request of your organisation is connecting an account; try again shortly") as lease:
            yield lease

    def held(self, owner_id: str) -> list[Reservation]:
        """The owner's reservations as stored (expired and consumed ones included; policy.caps sorts them)."""
        stored = self._state.get(keys.reservations(owner_id))
        items = stored if isinstance(stored, list) else []
        return [r for r in (Reservation.from_dict(item) for item in items) if r is not None]

    def keep(self, owner_id: str, reservations: list[Reservation]) -> None:
        """Store the owner's reservations, living as long as the longest of them."""
        now = time.time()
        live = [r for r in reservations if r.until > now]
        key = keys.reservations(owner_id)
        if not live:
            self._state.delete(key)
            return
        self._state.set(key, [r.as_dict() for r in live], ttl=max(r.until for r in live) - now + 1)
