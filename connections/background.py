"""The work no request asks for, in each gunicorn worker: every tick, what is due is claimed from the ledger in one
call (first deliveries, retries, reminders, the scheduled reconcile pass) and done; an idle tick is that one call,
whatever the number of owners and accounts."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable

from connections.ledger import PASS, Ledger
from errors import ServiceError

log = logging.getLogger(__name__)

WARN_EVERY = 60.0
RECONCILE = "reconcile"  # the reconcile pass's entry in the due index


def start(tick: Callable[[], object], schedule: Callable[[float], None], seconds: float) -> threading.Thread:
    """Start the background loop (a greenlet under gevent): `schedule(now)` once, then `tick()` every `seconds` or so
    (CONNECTIONS_SWEEP_SECONDS; the composition root passes Services.schedule_reconcile and run_due)."""
    thread = threading.Thread(target=_loop, args=(tick, schedule, seconds), name="connections-background",
                              daemon=True)
    thread.start()
    return thread


def schedule_reconcile(ledger: Ledger, interval: float, now: float) -> None:
    """Put the reconcile pass in the due index unless it is there (every worker asks once, at start)."""
    if interval:
        # Spread over the first interval: a fleet started at once does not read StackOne's list at once.
        ledger.ensure(PASS, RECONCILE, now + interval * random.uniform(0.1, 1.0))


def _loop(tick: Callable[[], object], schedule: Callable[[float], None], seconds: float) -> None:
    last_warning, scheduled = 0.0, False
    while True:
        time.sleep(seconds * random.uniform(0.8, 1.2))  # workers and hosts drift apart rather than tick in step
        try:
            if not scheduled:
                schedule(time.time())
                scheduled = True
            tick()
        except (ServiceError, OSError) as exc:
            if time.monotonic() - last_warning >= WARN_EVERY:  # an outage is one line a minute, not a flood
                last_warning = time.monotonic()
                log.warning("background work failed (%s); tried again at every tick", type(exc).__name__)
