"""Delivering queued events: each due one claimed from the ledger with a lease (so one sender has it at a time, and a
sender that dies leaves it to be taken again when the lease ends), sent concurrently (connections.dispatch), then
finished, retried on the schedule of connections.schedule, or given up after its last attempt (recorded and counted).
At least once; a duplicate always carries the same event id."""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable
from typing import Any

from connections.dispatch import SEND_CONCURRENCY, dispatch
from connections.ledger import DUE_BATCH, NEW, RETRY, Claim, Ledger
from connections.schedule import MAX_ATTEMPTS, Failure, after_failure
from errors import ServiceError

log = logging.getLogger(__name__)
OUR_FAILURE_WAIT = 60.0  # seconds before an event our side could not send (no attempt counted) is tried again

# The default settings' lease (see lease_for).
LEASE = 3 * (10.0 + 12.0) + 10.0


def lease_for(send_limit: float, request_deadline: float) -> float:
    """How long a pass's claimed events are its own: every round of sends the pass may make (DUE_BATCH's events,
    SEND_CONCURRENCY at a time), each a whole send and a reconnect link's mint, and a margin; so a live sender never
    loses an event to another. A sender killed mid-pass leaves its events to be sent again this long after."""
    rounds = math.ceil((DUE_BATCH[NEW] + DUE_BATCH[RETRY]) / SEND_CONCURRENCY)
    return rounds * (send_limit + request_deadline) + 10.0


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
    except ServiceError as exc:
        # Ours, not the receiver's: the reconnect link could not be minted (StackOne busy or down) or the state
        # failed. No attempt is counted; the event is due again a minute later.
        ledger.schedule(claim.kind, claim.id, now + OUR_FAILURE_WAIT)
        log.warning("event %s (%s) not sent: %s on our side; tried again in %.0f s", claim.id,
                    queued.event.get("type"), exc.code, OUR_FAILURE_WAIT)
        return "held"
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
        if not ledger.retry(claim, now + step.delay, failure.reason):
            return None  # its lease had lapsed: another sender has it, and its attempt is that sender's to count
        log.warning("event %s (%s) delivery failed (%s); attempt %d of %d, next in %.0f s", claim.id,
                    queued.event.get("type"), failure.reason, step.attempts, MAX_ATTEMPTS, step.delay)
        return "retry"
    ledger.finish(claim)
    return "delivered"
