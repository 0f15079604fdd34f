"""Do a thing once per key across every host, and hand its sealed result to whoever asks again: the mechanism behind
Idempotency-Key and live-session reuse.

The first caller claims the key atomically (the state's SET NX), does the thing, and stores its result sealed. A
caller arriving meanwhile waits for that result within its deadline, or gets 409 idempotency_in_progress. A failure
(an exception) releases the key, so a retry does the thing afresh.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from typing import Any

from errors import InProgress
from sessions.sealing import Sealer
from state import SharedState
from state.waiting import wait_until

POLL_SECONDS = 0.05
# A claim outlives any request that could hold it (REQUEST_DEADLINE is seconds); a host that died mid-mint frees
# the key after this long.
CLAIM_TTL = 120


class DifferentRequest(Exception):
    """The key is held for another request (its fingerprint differs)."""


class Once:
    """At most one run per key while its record lives; repeats get the stored, sealed result."""

    def __init__(self, state: SharedState, sealer: Sealer) -> None:
        self._state = state
        self._sealer = sealer

    def run(self, key: str, fp: str, produce: Callable[[], dict[str, Any] | None], *, ttl: float,
            deadline: float | None, usable: Callable[[dict[str, Any]], bool] | None = None
            ) -> tuple[dict[str, Any] | None, bool]:
        """The result and whether it was replayed. `produce` returning None keeps nothing (the key is released);
        `usable` may refuse a stored result (it is then dropped and produced afresh). Raises DifferentRequest."""
        outcome = wait_until(lambda: self._attempt(key, fp, produce, ttl, usable), deadline, POLL_SECONDS)
        if outcome is None:
            raise InProgress("The first request with this key is still being answered; retry shortly",
                             headers={"Retry-After": "1"})
        return outcome

    def _attempt(self, key: str, fp: str, produce: Callable[[], dict[str, Any] | None], ttl: float,
                 usable: Callable[[dict[str, Any]], bool] | None) -> tuple[dict[str, Any] | None, bool] | None:
        """Claim the key, or read its stored result; None while another caller's first run is still pending."""
        while True:  # released, expired or dropped between two reads: claim again at once, without waiting
            claim = {"state": "pending", "fp": fp, "by": secrets.token_hex(8)}  # whose claim: only it releases it
            if self._state.add(key, claim, ttl=CLAIM_TTL):
                return self._first(key, claim, produce, ttl), False
            record = self._state.get(key)
            if record is None:
                continue  # released (the first failed) or expired between the two reads: claim it
            if record.get("fp") != fp:
                raise DifferentRequest()
            if record.get("state") == "done":
                result = self._open(key, record)
                if result is not None and (usable is None or usable(result)):
                    return result, True
                # Unreadable (sealed with a retired secret) or no longer fit for use: produce afresh (dropped only as
                # read: a newer caller's claim made meanwhile stays).
                self._state.delete_if(key, record)
                continue
            return None

    def forget(self, key: str) -> None:
        """Drop the key's record: the next run does the thing afresh."""
        self._state.delete(key)

    def _first(self, key: str, claim: dict[str, Any], produce: Callable[[], dict[str, Any] | None], ttl: float):
        try:
            result = produce()
        except BaseException:
            self._state.delete_if(key, claim)  # a 5xx, a timeout or a crash: a retry does it afresh
            raise
        if result is None:
            self._state.delete_if(key, claim)
            return None
        self._state.set(key, {"state": "done", "fp": claim["fp"],
                              "sealed": self._sealer.seal(json.dumps(result), key)}, ttl=ttl)
        return result

    def _open(self, key: str, record: dict[str, Any]) -> dict[str, Any] | None:
        text = self._sealer.open(record.get("sealed"), bound_to=key)
        if text is None:
            return None
        try:
            result = json.loads(text)
        except ValueError:
            return None
        return result if isinstance(result, dict) else None
