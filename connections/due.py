"""One tick of background work: claim what is due in one call to the ledger and do it (reminders, deliveries with
first attempts ahead of retries, and the scheduled reconcile pass in a thread of its own), and the Auth Links'
link.expiring reminders in one call to the link store."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from connections.delivery import deliver_due
from connections.ledger import DUE_BATCH, NEW, PASS, REMIND, RETRY, Claim
from connections.monitor import ConnectionMonitor
from connections.outbox import lease_for
from connections.pause import EndpointPause
from connections.reconcile import run_pass
from connections.sender import AppWebhookSender
from links.events import expiring_event
from links.store import LinkStore
from stackone.client import StackOneClient

log = logging.getLogger(__name__)
LINK_REMINDERS = 50  # link.expiring reminders one tick takes at most (a queued event each, no send)


@dataclass(frozen=True)
class DueWork:
    """What a tick needs: the monitor (and its ledger), the sender and its pause, how to mint a reconnect link, and
    the settings that size leases and passes."""

    monitor: ConnectionMonitor
    sender: AppWebhookSender
    pause: EndpointPause
    open_link: Callable  # (owner, request) -> IssuedSession, ignoring caps, decided live
    client: StackOneClient
    send_limit: float  # APP_WEBHOOK_TIMEOUT
    request_deadline: float  # REQUEST_DEADLINE
    reconcile_interval: float  # RECONCILE_INTERVAL
    links: LinkStore | None = None  # the Auth Links, whose link.expiring reminders are due here

    def run(self, now: float, passes: bool) -> dict[str, int]:
        """Claim and do what is due at `now`; with `passes`, the reconcile pass too. Counts of what was done."""
        with StackOneClient.background():  # reminders, reconnect links, reconcile: StackOne's background share
            return self._run(now, passes)

    def _run(self, now: float, passes: bool) -> dict[str, int]:
        ledger = self.monitor.ledger
        paused = self.pause.paused() is not None
        # While paused (a 410), no delivery is claimed: every event waits, with no attempt counted.
        limits = {**DUE_BATCH, PASS: 1 if passes else 0, **({NEW: 0, RETRY: 0} if paused else {})}
        claims = ledger.claim(now, lease_for(self.send_limit, self.request_deadline), limits)
        counts = {"reminded": sum(self.monitor.remind(c) for c in claims if c.kind == REMIND)}
        expiring = self._remind_links(now)
        if expiring:
            counts["links_reminded"] = expiring
        if paused:
            counts.update(held=ledger.backlog(), paused=1)
        else:
            sends = [c for c in claims if c.kind in (NEW, RETRY)]
            counts.update(deliver_due(ledger, sends, self.sender, self.open_link, self.pause, now))
        for claim in claims:
            if claim.kind == PASS:
                # Beside the ticks, not inside one: a pass over a large project takes minutes, and deliveries and
                # reminders go on meanwhile (its lease, renewed after every page, keeps it this worker's).
                threading.Thread(target=self._run_pass, args=(claim,), name="reconcile-pass", daemon=True).start()
                counts["passes_started"] = counts.get("passes_started", 0) + 1
        return counts

    def _remind_links(self, now: float) -> int:
        """Queue link.expiring for each due reminder of a live link (the store hands out no other), once each: queued
        with an id of the link's and marked in the ledger, then the reminder finished (a worker dying in between
        leaves it to the next claim once the lease lapses, which queues nothing again)."""
        if self.links is None:
            return 0
        reminders = self.links.claim_reminders(now, lease_for(self.send_limit, self.request_deadline), LINK_REMINDERS)
        queued = 0
        for reminder in reminders:
            queued += self.monitor.ledger.queue_once([expiring_event(reminder.link, now)], now=now)
            self.links.finish_reminder(reminder)
        return queued

    def _run_pass(self, claim: Claim) -> None:
        with StackOneClient.background():  # StackOne's budget: the background share, behind the mints
            try:
                run_pass(self.monitor, self.client, claim, self.reconcile_interval)
            except Exception as exc:  # noqa: BLE001 - a thread's end: logged, and its lease lapses for another
                log.warning("reconcile pass ended early (%s); it is tried again once its lease lapses",
                            type(exc).__name__)
