"""An account event's Auth Link: found by links.completion's rule, completed in the link store, and announced to the
customer's app once (`link.completed`, queued in the connection ledger as an event of no account).

What is written when, and why nothing is lost or doubled: the completion is written first (one compare-and-set in
the link store), then the event is queued (one step in the ledger, marked so that its id is never queued twice). A
failure between the two (the state failing, the worker dying) leaves the webhook unacknowledged (handle_event drops
its replay mark, or the mark lapses), so StackOne's retry finds the link this event completed and queues what was
not; a retry after both were written queues nothing (the ledger's mark), even once the event was delivered.
"""

from __future__ import annotations

from connections.ledger import Ledger
from links.completion import AccountEvent, completed_by, links_for
from links.events import completed_event
from links.store import LinkStore


def complete_link(seen: AccountEvent, store: LinkStore, ledger: Ledger | None, now: float) -> bool:
    """Complete the link the event was made through, if any, and queue its link.completed (with a ledger: the app
    has a receiver); True when this call completed it."""
    link = completed_by(links_for(store, seen, now), seen)
    if link is None:
        return False
    # Stamped with the event's time: a retry of this event recognises its own completion by it.
    change = store.complete(seen.owner_id, link.handle, seen.account_id, seen.at)
    done = change.link
    if done is None or (done.completed_account, done.completed_at) != (seen.account_id, seen.at):
        return False  # completed by another event meanwhile (or gone): that one announces it
    if ledger is not None:
        ledger.queue_once([completed_event(done, seen.provider, now)], now=now)
    return change.applied
