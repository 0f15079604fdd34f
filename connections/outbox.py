"""The delivery queue of events to the customer's app: kept in the shared state (Redis, or the host's state folder),
so it survives a restart; each event claimed by one sender at a time, retried with backoff, and given up on after
MAX_ATTEMPTS (recorded and counted)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from state import SharedState

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = 5.0  # seconds; doubled per attempt, at most MAX_RETRY
MAX_RETRY = 3600.0
CLAIM_TTL = 60
KEEP_SECONDS = 7 * 24 * 3600
INDEX = "outbox-index"


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY)


class Outbox:
    """Events waiting to be delivered; `enqueue` is idempotent per event id."""

    def __init__(self, state: SharedState, lock) -> None:
        self._state = state
        self._lock = lock  # ConnectionStore.locked

    def enqueue(self, event: dict[str, Any]) -> bool:
        """Queue an event (its `id` is its identity); False when that event is queued already."""
        entry = {"event": event, "attempts": 0, "next_at": 0.0}
        if not self._state.add(f"outbox:{event['id']}", entry, ttl=KEEP_SECONDS):
            return False
        with self._lock("outbox"):
            self._state.set(INDEX, sorted({*self.pending_ids(), event["id"]}), ttl=KEEP_SECONDS)
        return True

    def pending_ids(self) -> list[str]:
        """Ids of every queued event."""
        value = self._state.get(INDEX)
        return [str(v) for v in value] if isinstance(value, list) else []

    def entry(self, event_id: str) -> dict[str, Any] | None:
        """One queued event with its attempts and next try."""
        value = self._state.get(f"outbox:{event_id}")
        return value if isinstance(value, dict) else None

    def deliver_due(self, send: Callable[[dict[str, Any]], None], now: float | None = None) -> dict[str, int]:
        """Try every event that is due; returns counts of delivered, retried and given-up events."""
        counts = {"delivered": 0, "retry": 0, "failed": 0}
        for event_id in self.pending_ids():
            entry = self.entry(event_id)
            if entry is None:
                self._forget(event_id)
                continue
            if entry.get("next_at", 0) > (time.time() if now is None else now):
                continue
            # One sender per event at a time, across hosts; the claim lapses if this one dies mid-send.
            if not self._state.add(f"outbox-claim:{event_id}", 1, ttl=CLAIM_TTL):
                continue
            try:
                outcome = self._try(event_id, entry, send, now)
            finally:
                self._state.delete(f"outbox-claim:{event_id}")
            counts[outcome] += 1
        return counts

    def _try(self, event_id: str, entry: dict[str, Any], send, now: float | None) -> str:
        try:
            send(entry["event"])
        except Exception as exc:  # the customer's endpoint: any failure is a retry
            attempts = int(entry.get("attempts", 0)) + 1
            if attempts >= MAX_ATTEMPTS:
                log.error("event %s (%s) not delivered after %d attempts (%s); given up", event_id,
                          entry["event"].get("type"), attempts, type(exc).__name__)
                self._state.delete(f"outbox:{event_id}")
                self._forget(event_id)
                return "failed"
            entry.update(attempts=attempts, next_at=(time.time() if now is None else now) + backoff(attempts),
                         last_error=type(exc).__name__)
            self._state.set(f"outbox:{event_id}", entry, ttl=KEEP_SECONDS)
            log.warning("event %s (%s) delivery failed (%s); attempt %d of %d, next in %.0f s", event_id,
                        entry["event"].get("type"), type(exc).__name__, attempts, MAX_ATTEMPTS, backoff(attempts))
            return "retry"
        self._state.delete(f"outbox:{event_id}")
        self._forget(event_id)
        return "delivered"

    def _forget(self, event_id: str) -> None:
        with self._lock("outbox"):
            self._state.set(INDEX, [i for i in self.pending_ids() if i != event_id], ttl=KEEP_SECONDS)
