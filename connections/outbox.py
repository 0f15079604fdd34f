"""Delivering queued events: each due one claimed from the ledger with a lease (so one sender has it at a time, and a
sender that dies leaves it to be taken again when the lease ends), sent concurrently (connections.dispatch), then
finished, retried on the schedule of connections.schedule, or given up after its last attempt (recorded and counted).
At least once; a duplicate always carries the same event id."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import Any

from connections.dispatch import dispatch
from connections.ledger import Claim, Ledger
from connections.schedule import MAX_ATTEMPTS, Failure, after_failure

log = logging.getLogger(__name__)

# A send's lease: longer than one send may take (APP_WEBHOOK_TIMEOUT, at most 30 s, plus minting a reconnect link
# within REQUEST_DEADLINE), so a live sender never loses its event to another (the default settings' lease).
LEASE = 10.0 + 12.0 + 10.0


def lease_for(send_limit: float, request_deadline: float) -> float:
    """How long a claimed event is its sender's: one whole send, a reconnect link's mint, and a margin. A sender
    killed mid-send leaves its events to be sent again this long after it claimed them."""
    return send_limit + request_deadline + 10.0


def deliver(ledger: Ledger, claims: list[Claim], send: Callable[[dict[str, Any]], None], now: float,
            rng: random.Random | None = None) -> dict[str, int]:
    """Send each claimed event once, concurrently; counts of delivered, retried, given-up and held events."""
    counts = {"delivered": 0, "retry": 0, "failed": 0, "held": 0}
    for outcome in dispatch(claims, lambda claim: _attempt(ledger, claim, send, now, rng)):
        if outcome:
            counts[outcome] += 1
    return counts


def _attempt(ledger: Ledger, claim: Claim, send, now: float, rng) -> str | None:
    queued = ledger.queued(claim.id)
    if queued is None:
        ledger.finish(claim)  # delivered by a sender whose lease had lapsed: only its due entry was left
        return None
    try:
        send(queued.event)
    except Exception as exc:  # the customer's endpoint: any failure is a retry (or a pause on 410)
        failure = getattr(exc, "failure", None) or Failure(type(exc).__name__)
        step = after_failure(queued.attempts, failure, rng)
        if step.action == "pause":
            ledger.schedule(claim.kind, claim.id, now)  # no attempt counted: due as soon as delivery resumes
            return "held"
        if step.action == "give_up":
            log.error("event %s (%s) not delivered after %d attempts over the whole retry schedule (%s); given up",
                      claim.id, queued.event.get("type"), step.attempts, failure.reason)
            ledger.finish(claim)
            return "failed"
        ledger.retry(claim, now + step.delay, failure.reason)
        log.warning("event %s (%s) delivery failed (%s); attempt %d of %d, next in %.0f s", claim.id,
                    queued.event.get("type"), failure.reason, step.attempts, MAX_ATTEMPTS, step.delay)
        return "retry"
    ledger.finish(claim)
    return "delivered"
