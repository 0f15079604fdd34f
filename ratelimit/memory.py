"""Per-process limit counts (no REDIS_URL): limits' memory storage, swept for expired entries once a second.

limits' MemoryStorage (5.8) sweeps every key for expired entries every 10 ms while requests arrive, under a lock per
key. The cost grows with the number of owners seen in the limit's window: measured under gevent with 2,000 owners,
the sweep took most of the worker's CPU. A count is checked against its window when it is read, so the sweep only
reclaims memory; once a second is plenty.
"""

from __future__ import annotations

import threading

from limits.storage import MemoryStorage

SWEEP_SECONDS = 1.0


class SweptMemoryStorage(MemoryStorage):
    """MemoryStorage whose sweep of expired entries runs once a second instead of every 10 ms."""

    # MemoryStorage calls this (a name-mangled private method, so the name is spelled out) on every count.
    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - the name MemoryStorage calls
        if not self.timer.is_alive():
            self.timer = threading.Timer(SWEEP_SECONDS, self._MemoryStorage__expire_events)
            self.timer.daemon = True  # never keeps a stopping worker alive
            self.timer.start()
