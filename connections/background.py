"""The work no request asks for, in each gunicorn worker: every tick, what is due is claimed from the ledger in one
call (first deliveries, retries, reminders, the scheduled reconcile pass) and done; an idle tick is that one call,
whatever the number of owners and accounts."""

from __future__ import annotations

import logging
import os
import random
import threading
import time

from flask import Flask

from connections.ledger import PASS
from errors import ServiceError

log = logging.getLogger(__name__)

DEFAULT_TICK_SECONDS = 2.0
WARN_EVERY = 60.0
RECONCILE = "reconcile"  # the reconcile pass's entry in the due index


def start(app: Flask) -> threading.Thread | None:
    """Start the background loop (a greenlet under gevent) when there is work for it; None when there is none."""
    from services import EXTENSION_KEY

    svc = app.extensions[EXTENSION_KEY]
    if not svc.settings.app_webhook_url:
        return None  # accounts are tracked (and so reconciled) for the customer's app only
    thread = threading.Thread(target=_loop, args=(app,), name="connections-background", daemon=True)
    thread.start()
    return thread


def schedule_reconcile(svc, now: float | None = None) -> None:
    """Put the reconcile pass in the due index unless it is there (every worker asks once, at start)."""
    interval = svc.settings.reconcile_interval
    if interval:
        # Spread over the first interval: a fleet started at once does not read StackOne's list at once.
        svc.connections.ledger.ensure(PASS, RECONCILE, (now or time.time()) + interval * random.uniform(0.1, 1.0))


def _loop(app: Flask) -> None:
    from services import EXTENSION_KEY

    tick = float(os.environ.get("CONNECTIONS_SWEEP_SECONDS") or DEFAULT_TICK_SECONDS)
    last_warning, scheduled = 0.0, False
    while True:
        time.sleep(tick * random.uniform(0.8, 1.2))  # workers and hosts drift apart rather than tick in step
        with app.app_context():
            svc = app.extensions[EXTENSION_KEY]
            try:
                if not scheduled:
                    schedule_reconcile(svc)
                    scheduled = True
                svc.run_due(passes=True)
            except (ServiceError, OSError) as exc:
                if time.monotonic() - last_warning >= WARN_EVERY:  # an outage is one line a minute, not a flood
                    last_warning = time.monotonic()
                    log.warning("background work failed (%s); tried again at every tick", type(exc).__name__)
