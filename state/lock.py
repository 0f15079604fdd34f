"""A lock every worker and host agrees on: the shared state's atomic set-if-absent, expiring if its holder dies."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from errors import ServiceBusy
from state.base import SharedState

POLL_SECONDS = 0.02


@contextmanager
def held(state: SharedState, key: str, *, ttl: float, give_up_at: float | None, busy: str) -> Iterator[None]:
    """Hold `key` for the block; 503 service_busy (saying `busy`) if it cannot be had before `give_up_at`."""
    while not state.add(key, 1, ttl=ttl):
        if give_up_at is not None and time.monotonic() + POLL_SECONDS >= give_up_at:
            raise ServiceBusy(busy, headers={"Retry-After": "1"})
        time.sleep(POLL_SECONDS)
    try:
        yield
    finally:
        state.delete(key)
