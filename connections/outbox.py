"""Delivering queued events: each due one claimed from the ledger with a lease (so one sender has it at a time, and a
sender that dies leaves it to be taken again when the lease ends), sent, then finished or retried with backoff, and
given up after MAX_ATTEMPTS (recorded and counted). At least once; a duplicate always carries the same event id."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from connections.ledger import Claim, Ledger

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = 5.0  # seconds; doubled per attempt, at most LONGEST_RETRY
LONGEST_RETRY = 3600.0
LEASE = 120.0  # a send's lease: longer than any one send may take, so a live sender never loses its event


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones."""
    return min(FIRST_RETRY * 2 ** (attempts - 1), LONGEST_RETRY)


def deliver(ledger: Ledger, claims: list[Claim], send: Callable[[dict[str, Any]], None], now: float
            ) -> dict[str, int]:
    """Send each claimed event once; returns counts of delivered, retried and given-up events."""
    counts = {"delivered": 0, "retry": 0, "failed": 0}
    for claim in claims:
        queued = ledger.queued(claim.id)
        if queued is None:
            ledger.finish(claim)  # delivered by a sender whose lease had lapsed: only its due entry was left
            continue
        try:
            send(queued.event)
        except Exception as exc:  # the customer's endpoint: any failure is a retry
            attempts = queued.attempts + 1
            if attempts >= MAX_ATTEMPTS:
                log.error("event %s (%s) not delivered after %d attempts (%s); given up", claim.id,
                          queued.event.get("type"), attempts, type(exc).__name__)
                ledger.finish(claim)
                counts["failed"] += 1
                continue
            ledger.retry(claim, now + backoff(attempts), type(exc).__name__)
            log.warning("event %s (%s) delivery failed (%s); attempt %d of %d, next in %.0f s", claim.id,
                        queued.event.get("type"), type(exc).__name__, attempts, MAX_ATTEMPTS, backoff(attempts))
            counts["retry"] += 1
            continue
        ledger.finish(claim)
        counts["delivered"] += 1
    return counts
