"""When to try an event again: the retry schedule of Standard Webhooks / Svix with jitter, `Retry-After`, the give-up.

Pure functions of the attempts made so far, the receiver's answer and a clock or random source passed in, so that any
queue (the current outbox, a sorted set, an SQLite table) decides the same way and a test runs the whole schedule on
a fast clock.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

# Seconds to wait after attempt n fails (n = 1..7): 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. Attempt 8 is the last.
RETRY_DELAYS: tuple[float, ...] = (5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.2  # each wait is its nominal delay ±20%, so a fleet's retries after an outage do not arrive in step
# A receiver's Retry-After is honoured (never tried sooner), but it cannot park an event longer than this per wait.
MAX_RETRY_AFTER = 24 * 3600.0
# Statuses whose Retry-After we read: too many requests, and unavailable (Standard Webhooks names both).
RETRY_AFTER_STATUSES = frozenset({429, 503})
GONE = 410


@dataclass(frozen=True)
class Failure:
    """Why one attempt failed: the HTTP status (None for a transport failure or the time limit) and the reason."""

    reason: str
    status: int | None = None
    retry_after: float | None = None  # seconds the receiver asked us to wait, already parsed and bounded


@dataclass(frozen=True)
class Next:
    """What to do after a failed attempt: `retry` at `delay` seconds from now, `give_up`, or `pause` the endpoint."""

    action: str
    attempts: int  # attempts counted so far (a pause does not count the one the 410 answered)
    delay: float = 0.0


def nominal_delay(attempts: int) -> float | None:
    """The schedule's wait after `attempts` failed attempts, without jitter; None once the last attempt failed."""
    if attempts < 1:
        raise ValueError("attempts start at 1")
    return RETRY_DELAYS[attempts - 1] if attempts <= len(RETRY_DELAYS) else None


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds from `now` a Retry-After asks for (delta-seconds or an HTTP-date), bounded; None if unusable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:  # RFC 9110 dates are GMT; a date without a zone is read as such
            return None
        seconds = when.timestamp() - now
    return min(max(seconds, 0.0), MAX_RETRY_AFTER)


def after_failure(attempts_before: int, failure: Failure, rng: random.Random | None = None) -> Next:
    """The decision after one more failed attempt: pause on 410, give up after the last, else retry (with jitter).

    The wait is the schedule's (±JITTER), or the receiver's Retry-After when that is longer: a receiver never gets
    an event sooner than it asked, and never later than the schedule plus its own ask (so the give-up never moves
    earlier than about 22 hours after the first attempt).
    """
    if failure.status == GONE:
        return Next("pause", attempts_before)
    attempts = attempts_before + 1
    nominal = nominal_delay(attempts)
    if nominal is None:
        return Next("give_up", attempts)
    delay = nominal * (rng or random).uniform(1 - JITTER, 1 + JITTER)
    if failure.retry_after is not None and failure.status in RETRY_AFTER_STATUSES:
        delay = max(delay, failure.retry_after)
    return Next("retry", attempts, delay)
