"""The work no request asks for, in each gunicorn worker: sending due events and reminders, and the scheduled
reconcile pass (one host at a time per RECONCILE_INTERVAL, through a key every host tries to take)."""

from __future__ import annotations

import logging
import os
import random
import threading
import time

from flask import Flask

from errors import ServiceError
from stackone.client import StackOneClient

log = logging.getLogger(__name__)

DEFAULT_SWEEP_SECONDS = 2.0
WARN_EVERY = 60.0
OWNER_PAUSE_MAX = 0.5  # seconds between two owners of one pass, at most: a pass is spread, not a burst


def start(app: Flask) -> threading.Thread | None:
    """Start the sweeper (a greenlet under gevent) when there is work for it; None when there is none."""
    from services import EXTENSION_KEY

    settings = app.extensions[EXTENSION_KEY].settings
    if not settings.app_webhook_url:
        return None  # accounts are tracked (and so reconciled) for the customer's app only
    thread = threading.Thread(target=_loop, args=(app,), name="connections-sweeper", daemon=True)
    thread.start()
    return thread


def _loop(app: Flask) -> None:
    sweep = float(os.environ.get("CONNECTIONS_SWEEP_SECONDS") or DEFAULT_SWEEP_SECONDS)
    last_warning = 0.0
    while True:
        time.sleep(sweep * random.uniform(0.8, 1.2))  # workers and hosts drift apart rather than sweep in step
        with app.app_context():
            try:
                sweep_once(app)
            except (ServiceError, OSError) as exc:
                if time.monotonic() - last_warning >= WARN_EVERY:  # an outage is one line a minute, not a flood
                    last_warning = time.monotonic()
                    log.warning("background pass failed (%s); tried again at every sweep", type(exc).__name__)


def sweep_once(app: Flask) -> None:
    """One sweep: due deliveries (and reminders), then this interval's reconcile pass if no host has taken it."""
    from services import EXTENSION_KEY

    svc = app.extensions[EXTENSION_KEY]
    with StackOneClient.background():  # StackOne's budget: at most its background share, yielding to mints
        svc.deliver_events()
        interval = svc.settings.reconcile_interval
        if interval and svc.state.add("reconcile-pass", os.getpid(), ttl=interval):
            owners = max(1, len(svc.connections.store.owners()))
            reconcile_all(svc, pause=min(OWNER_PAUSE_MAX, interval / 2 / owners))


def reconcile_all(svc, pause: float = 0.0) -> dict[str, int]:
    """Reconcile every known owner; returns the summed counts."""
    total: dict[str, int] = {}
    for owner in svc.connections.store.owners():
        try:
            with StackOneClient.background():  # the operator's `reconcile` too: it must not starve the mints
                counts = svc.connections.reconcile_owner(owner)
        except ServiceError as exc:
            log.warning("reconcile of one owner failed (%s); the next pass tries again", exc.code)
            continue
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
        if pause:
            time.sleep(pause)
    return total
