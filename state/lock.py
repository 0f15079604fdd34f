"""A lock every worker and host agrees on: a token per holder, a short lease renewed while held, released only by
its holder.

Why not one long lifetime: any fixed lifetime is a guess at how long the holder needs it. With STACKONE_TIMEOUT=30
a 30 s lock expired while its holder still waited on StackOne, and a second host took it (two creates past a cap of
1); and when the release itself failed (a Redis hang) the owner stayed locked out for the whole lifetime. A lease of
LEASE_SECONDS renewed every RENEW_EVERY while held fits any configuration the service accepts (nothing in the
settings bounds how long the holder may need it), and a holder that died or could not release frees it within
LEASE_SECONDS. The token is redis-py's `redis/lock.py` idea: a holder whose lease lapsed anyway (Redis unreachable
longer than the lease) can neither renew nor delete the next holder's lock, because both compare the token first.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from errors import ServiceBusy, ServiceError
from state.base import SharedState
from state.waiting import wait_until

log = logging.getLogger(__name__)

POLL_SECONDS = 0.02
LEASE_SECONDS = 6.0  # a dead holder (or one that could not release) locks the others out this long at most
RENEW_EVERY = LEASE_SECONDS / 3  # two renewals may fail (a Redis stall of ~3 s) before the lease is in danger
RETRY_RENEW = 0.25  # after a failed renewal: try again soon, the lease is running


class Lease:
    """One holder's hold on a lock: renewed in the background until released; `lost` once it could not be kept."""

    def __init__(self, state: SharedState, key: str, token: str, asked_at: float) -> None:
        self._state = state
        self._key = key
        self._token = token
        self._done = threading.Event()
        self._renewed_at = asked_at  # when the winning set-if-absent was sent: the lease runs from no later
        self._lost = False
        # A thread (a greenlet under the gevent worker): the holder is busy waiting on StackOne meanwhile.
        self._renewer = threading.Thread(target=self._renew, name="lock-renewer", daemon=True)

    @property
    def lost(self) -> bool:
        """True when the lock is not surely ours any more (taken by another, or not renewed within its lease)."""
        return self._lost or time.monotonic() - self._renewed_at >= LEASE_SECONDS

    def start(self) -> None:
        """Begin renewing."""
        self._renewer.start()

    def release(self) -> None:
        """Stop renewing and delete the lock if it is still ours; a failure leaves it to expire within its lease."""
        self._done.set()
        try:
            self._state.delete_if(self._key, self._token)
        except (ServiceError, OSError):
            pass  # the state is failing (and has said so): the lease frees the lock within LEASE_SECONDS

    def _renew(self) -> None:
        wait = RENEW_EVERY
        while not self._done.wait(wait):
            started = time.monotonic()
            try:
                kept = self._state.renew_if(self._key, self._token, LEASE_SECONDS)
            except (ServiceError, OSError):
                wait = RETRY_RENEW
                continue
            if self._done.is_set():
                return
            if not kept:
                self._lost = True
                log.warning("a lock lapsed while held (the shared state was unreachable longer than its %gs lease)",
                            LEASE_SECONDS)
                return
            self._renewed_at = started
            wait = RENEW_EVERY


@contextmanager
def held(state: SharedState, key: str, *, give_up_at: float | None, busy: str) -> Iterator[Lease]:
    """Hold `key` for the block; 503 service_busy (saying `busy`) if it cannot be had before `give_up_at`."""
    token = secrets.token_urlsafe(16)

    def taken() -> float | None:
        asked_at = time.monotonic()  # the lease runs from the asking, not from the answer
        return asked_at if state.add(key, token, ttl=LEASE_SECONDS) else None

    asked_at = wait_until(taken, give_up_at, POLL_SECONDS)
    if asked_at is None:
        raise ServiceBusy(busy, headers={"Retry-After": "1"})
    lease = Lease(state, key, token, asked_at)
    lease.start()
    try:
        yield lease
    finally:
        lease.release()
