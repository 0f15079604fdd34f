"""The delivery queue of events to the customer's app: kept in the shared state (Redis, or the host's state folder),
so it survives a restart; each event claimed by one sender at a time, due ones sent concurrently (connections.dispatch),
retried on the schedule of connections.schedule and given up on after its last attempt (recorded and counted)."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import Any

from connections.dispatch import dispatch, plan
from connections.schedule import MAX_ATTEMPTS, Failure, after_failure
from state import SharedState

log = logging.getLogger(__name__)

CLAIM_TTL = 60  # longer than one send (APP_WEBHOOK_TIMEOUT) plus minting a reconnect link (REQUEST_DEADLINE)
# Over the whole schedule (at most ~33 h), and a month while delivery is paused by a 410 (connections.pause).
KEEP_SECONDS = 30 * 24 * 3600
INDEX = "outbox-index"


class Outbox:
    """Events waiting to be delivered; `enqueue` is idempotent per event id."""

    def __init__(self, state: SharedState, lock) -> None:
        self._state = state
        self._lock = lock  # ConnectionStore.locked

    def enqueue(self, event: dict[str, Any]) -> bool:
        """Queue an event (its `id` is its identity); False when that event is queued already."""
        entry = {"event": event, "attempts": 0, "next_at": time.time()}  # due now; first attempts go oldest first
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

    def deliver_due(self, send: Callable[[dict[str, Any]], None], now: float | None = None,
                    rng: random.Random | None = None) -> dict[str, int]:
        """Try every due event, concurrently; returns counts of delivered, retried, given-up and held events."""
        counts = {"delivered": 0, "retry": 0, "failed": 0, "held": 0}
        clock = time.time() if now is None else now
        due = []
        for event_id in self.pending_ids():
            entry = self.entry(event_id)
            if entry is None:
                self._forget(event_id)
            elif entry.get("next_at", 0) <= clock:
                due.append((event_id, entry))
        order = plan(due, is_retry=lambda item: int(item[1].get("attempts", 0)) > 0,
                     due_at=lambda item: float(item[1].get("next_at", 0)))
        for outcome in dispatch(order, lambda item: self._claimed_try(*item, send, now, rng)):
            if outcome:
                counts[outcome] += 1
        return counts

    def _claimed_try(self, event_id: str, entry: dict[str, Any], send, now: float | None, rng) -> str | None:
        # One sender per event at a time, across hosts; the claim lapses if this one dies mid-send.
        if not self._state.add(f"outbox-claim:{event_id}", 1, ttl=CLAIM_TTL):
            return None
        try:
            return self._try(event_id, entry, send, now, rng)
        finally:
            self._state.delete(f"outbox-claim:{event_id}")

    def _try(self, event_id: str, entry: dict[str, Any], send, now: float | None, rng) -> str:
        try:
            send(entry["event"])
        except Exception as exc:  # the customer's endpoint: any failure is a retry (or a pause on 410)
            failure = getattr(exc, "failure", None) or Failure(type(exc).__name__)
            step = after_failure(int(entry.get("attempts", 0)), failure, rng)
            if step.action == "pause":
                return "held"  # left as it is: sent when the operator resumes delivery
            if step.action == "give_up":
                log.error("event %s (%s) not delivered after %d attempts over the whole retry schedule (%s); "
                          "given up", event_id, entry["event"].get("type"), step.attempts, failure.reason)
                self._state.delete(f"outbox:{event_id}")
                self._forget(event_id)
                return "failed"
            entry.update(attempts=step.attempts, next_at=(time.time() if now is None else now) + step.delay,
                         last_error=failure.reason)
            self._state.set(f"outbox:{event_id}", entry, ttl=KEEP_SECONDS)
            log.warning("event %s (%s) delivery failed (%s); attempt %d of %d, next in %.0f s", event_id,
                        entry["event"].get("type"), failure.reason, step.attempts, MAX_ATTEMPTS, step.delay)
            return "retry"
        self._state.delete(f"outbox:{event_id}")
        self._forget(event_id)
        return "delivered"

    def _forget(self, event_id: str) -> None:
        with self._lock("outbox"):
            self._state.set(INDEX, [i for i in self.pending_ids() if i != event_id], ttl=KEEP_SECONDS)
