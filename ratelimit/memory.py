"""Per-process limit counts (no REDIS_URL): limits' memory storage, swept for expired entries once a minute, inline.

limits' MemoryStorage (5.8) sweeps every key for expired entries every 10 ms while requests arrive, from a timer
thread it checks with `is_alive()` on every count. Both cost: with 2,000 owners the sweep took most of a worker's
CPU, and under gevent each `is_alive()` yields to the hub, twice a request. A count is checked against its window
whenever it is read, so the sweep only reclaims memory, and the hourly rule's entries live up to an hour anyway:
once a minute is plenty, and done inline by the count that finds it due, there is no thread to ask about.
"""

from __future__ import annotations

import time

from limits.storage import MemoryStorage

SWEEP_SECONDS = 60.0


class SweptMemoryStorage(MemoryStorage):
    """MemoryStorage that sweeps expired entries at most once every `sweep_seconds`, in the count that finds it due."""

    def __init__(self, sweep_seconds: float = SWEEP_SECONDS) -> None:
        super().__init__()
        self.sweep_seconds = sweep_seconds
        self._sweep_at = time.monotonic() + sweep_seconds

    # MemoryStorage calls this (a name-mangled private method, so the name is spelled out) on every count.
    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - the name MemoryStorage calls
        now = time.monotonic()
        if now >= self._sweep_at:
            self._sweep_at = now + self.sweep_seconds
            self._MemoryStorage__expire_events()
