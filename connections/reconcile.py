"""The reconcile pass: StackOne's whole account list read page by page (every owner, seen here or not) and applied;
once the whole list is read, accounts known here that StackOne no longer has are deleted. A list that fails or is
throttled part way is never read as deletions: the pass stops, and its lease lapsing hands it to the next tick."""

from __future__ import annotations

import logging
import time

from connections.changes import Observation
from connections.ledger import PASS, Claim
from connections.monitor import ConnectionMonitor, observed
from errors import ServiceError
from metrics import record_account_change
from stackone.client import StackOneClient

log = logging.getLogger(__name__)

PAGE_SIZE = 100  # asked of StackOne; it may serve fewer (its largest page is not documented): the client reads on
PASS_LEASE = 15 * 60.0  # a pass holds its entry this long after each page; one that dies frees it after that


def reconcile_project(monitor: ConnectionMonitor, client, *, keep_lease=lambda: None) -> dict[str, int]:
    """One pass over the project's accounts; returns counts (applied, unchanged, stale, inferred_missing)."""
    when = (monitor.now(), time.time_ns())
    counts = {"applied": 0, "unchanged": 0, "stale": 0, "inferred_missing": 0, "pages": 0}
    seen: set[str] = set()
    for page in client.account_pages(PAGE_SIZE):
        counts["pages"] += 1
        for account in page:
            seen.add(account.id)
            counts[monitor.apply(observed(account), when, "reconcile")] += 1
        keep_lease()
    # The whole list was read: what is known here and not there was deleted (its account.deleted was missed). An
    # account applied after the pass began (a webhook) is newer than this deletion, which is then dropped as stale.
    # StackOne pages by number: an account made or deleted meanwhile shifts the pages, so one may be skipped. Each
    # presumed deletion (few, in the usual pass) is asked of StackOne by id before it is believed.
    for account_id in list(monitor.ledger.known_accounts()):
        if account_id in seen:
            continue
        account = client.get_account(account_id)
        keep_lease()
        if account is not None:
            counts[monitor.apply(observed(account), when, "reconcile")] += 1
        elif monitor.apply(Observation(account_id, None, deleted=True), when, "reconcile") == "applied":
            counts["inferred_missing"] += 1
            record_account_change("reconcile", "inferred_missing")
    return counts


def run_pass(monitor: ConnectionMonitor, client: StackOneClient, claim: Claim, interval: float) -> dict[str, int]:
    """Run a claimed pass (the reconcile pass), then make it due again `interval` (RECONCILE_INTERVAL) later."""
    ledger = monitor.ledger
    if claim.id != "reconcile" or not interval:
        ledger.finish(claim)  # an entry no one runs (a pass renamed, reconcile turned off): dropped
        return {}

    def keep_lease() -> None:
        ledger.schedule(PASS, claim.id, time.time() + PASS_LEASE)

    keep_lease()
    try:
        counts = reconcile_project(monitor, client, keep_lease=keep_lease)
    except ServiceError as exc:
        log.warning("reconcile pass stopped (%s); nothing was read as deleted, it is tried again", exc.code)
        ledger.schedule(PASS, claim.id, time.time() + min(interval, 60))
        return {}
    ledger.schedule(PASS, claim.id, time.time() + interval)
    log.info("reconcile pass done: %s", counts)
    return {f"reconcile_{k}": v for k, v in counts.items()}
