"""Per-process limit counts (no REDIS_URL): limits' memory storage, swept for expired entries once a minute, inline.

limits' MemoryStorage (5.8) sweeps every key for expired entries every 10 ms while requests arrive, from a timer
thread it checks with `is_alive()` on every count. Both cost: with 2,000 owners the sweep took most of a worker's
CPU, and under gevent each `is_alive()` yields to the hub, twice a request. A count is checked against its window
whenever it is read, so the sweep only reclaims memory, and the hourly rule's entries live up to an hour anyway:
once a minute is plenty, and done inline by the count that finds it due, there is no thread to ask about.

Memory is bounded too: one lock for every key rather than one per key, and at most `max_keys` keys (owners times
rules), the least recently counted dropped first. A dropped owner starts a fresh window: only the owner idle longest
of all those tracked can gain that way. `make bench` (bench/limit_memory.py) prints the bytes per owner.
"""

from __future__ import annotations

import threading
import time

from limits.storage import MemoryStorage

SWEEP_SECONDS = 60.0
MAX_TRACKED_OWNERS = 10_000  # per worker; times the number of rules gives the storage's key cap


class OneLock:
    """MemoryStorage's lock-per-key mapping, with one lock for every key (each key's RLock was a fifth of its cost).

    Counting takes microseconds and never waits on I/O, so one lock costs no concurrency worth having.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()

    def __getitem__(self, key: str) -> threading.RLock:
        return self._lock

    def pop(self, key: str, default=None):
        """Nothing to forget: the lock is shared."""
        return default

    def clear(self) -> None:
        """Nothing to forget: the lock is shared."""


class SweptMemoryStorage(MemoryStorage):
    """MemoryStorage that sweeps expired entries at most once every `sweep_seconds`, in the count that finds it due."""

    def __init__(self, sweep_seconds: float = SWEEP_SECONDS, max_keys: int = MAX_TRACKED_OWNERS) -> None:
        super().__init__()
        self.locks = OneLock()  # type: ignore[assignment]
        self.sweep_seconds = sweep_seconds
        self.max_keys = max_keys
        self._sweep_at = time.monotonic() + sweep_seconds

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        """Count as MemoryStorage does; the key becomes the most recent, and the oldest go past max_keys."""
        with self.locks[key]:
            acquired = super().acquire_entry(key, limit, expiry, amount)
            events = self.events
            events[key] = events.pop(key)  # a dict keeps insertion order: re-inserting marks it most recent
            while len(events) > self.max_keys:
                del events[next(iter(events))]
        return acquired

    def __setstate__(self, state) -> None:
        super().__setstate__(state)
        self.locks = OneLock()  # type: ignore[assignment]

    # MemoryStorage calls this (a name-mangled private method, so the name is spelled out) on every count.
    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - the name MemoryStorage calls
        now = time.monotonic()
        if now >= self._sweep_at:
            self._sweep_at = now + self.sweep_seconds
            self._MemoryStorage__expire_events()
