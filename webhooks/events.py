"""Act on a verified StackOne event: once per delivery, forget cached account lookups, log one structured line."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from connections.monitor import event_time
from domain.accounts import ACCOUNT_CREATED, ACCOUNT_EVENTS, ACCOUNT_UPDATED
from domain.times import parse_iso
from errors import ServiceBusy, StateUnavailable
from links.completion import AccountEvent
from links.store import LinkStore
from sessions.status import remember_created
from stackone.directory import AccountDirectory
from state import SharedState, keys
from webhooks.links import complete_link

log = logging.getLogger("webhooks")

REPLAY_WINDOW = 24 * 3600
CLOCK_SKEW = 5 * 60  # how far ahead of our clock a sent_at may be
# An event stays fresh until sent_at + REPLAY_WINDOW, and sent_at may be CLOCK_SKEW ahead of its receipt: its mark
# must outlive that, plus a minute for the hosts' (and Redis') clocks to disagree.
REPLAY_MARK_TTL = REPLAY_WINDOW + CLOCK_SKEW + 60
# While a delivery is being acted on, its mark says so and lives only this long (a request's whole life, and a
# margin): a delivery that finds it is answered 503, not "duplicate", since the first may yet fail; if it fails and
# its mark cannot be removed (the store failing is the usual reason), StackOne's retry acts once it has lapsed.
ACTING_TTL = 30


def handle_event(body: bytes, event: dict[str, Any], *, state: SharedState, accounts: AccountDirectory,
                 connections=None, links: LinkStore | None = None) -> str:
    """Act on one verified event; returns "processed", "ignored", "duplicate", "stale" or "out_of_order". With a
    link store, an account made through an Auth Link's click completes it (webhooks/links.py)."""
    reason = staleness(event.get("sent_at"))
    if reason:
        # Its replay mark may have expired, so acting on it would let an old delivery be replayed.
        log.info(json.dumps({"webhook": short_text(event.get("event")), "outcome": "stale", "reason": reason}))
        return "stale"
    key = keys.webhook_replay(body)  # a digest of the exact bytes StackOne signed
    # Taken atomically: of two deliveries racing in two workers, exactly one acts.
    if not state.add(key, "acting", ttl=ACTING_TTL):
        if state.get(key) == "acting":
            # Not yet acted on: only "done" is a duplicate. StackOne delivers it again; it is acted on once.
            raise ServiceBusy("This event is being processed; deliver it again shortly", headers={"Retry-After": "1"})
        log.info(json.dumps({"webhook": "duplicate", "event": short_text(event.get("event"))}))
        return "duplicate"
    try:
        outcome = _act(event, state, accounts, connections, links)
    except Exception:
        try:
            state.delete(key)  # let StackOne's retry act on it
        except StateUnavailable:
            pass  # the acting mark lapses by itself after ACTING_TTL
        raise
    state.set(key, "done", ttl=REPLAY_MARK_TTL)  # failing, this answers 503: the retry acts again, harmlessly
    return outcome


def _act(event: dict[str, Any], state: SharedState, accounts: AccountDirectory, connections,
         links: LinkStore | None) -> str:
    kind = short_text(event.get("event"))
    line = {
        "webhook": kind,
        "account_id": short_text(event.get("account_id") or event.get("record_id")),
        "provider": short_text(event.get("provider")),
        "origin_owner_id": short_text(event.get("origin_owner_id")),
    }
    if kind not in ACCOUNT_EVENTS:
        log.info(json.dumps({**line, "outcome": "ignored"}))
        return "ignored"
    if line["origin_owner_id"]:
        accounts.forget_owner(line["origin_owner_id"])
    if kind == ACCOUNT_CREATED:  # the owner's session for this provider, still being polled, is done
        remember_created(state, line["origin_owner_id"], line["provider"], line["account_id"],
                         event.get("event_date"), short_text(event.get("origin_username")))
    seen = account_event(event) if links is not None else None
    # Before the account's own change: the link stops working even while that fails (StackOne down: a 503), and
    # StackOne's retry completes nothing twice (webhooks/links.py).
    if seen is not None and complete_link(seen, links, connections.ledger if connections else None, time.time()):
        line["link"] = "completed"
    outcome = "processed"
    if connections is not None and line["account_id"]:
        # Applied to the account's state only when newer than the last applied (event time, then arrival).
        applied = connections.observe_event(line["account_id"], line["origin_owner_id"], event.get("event_date"),
                                            kind)
        outcome = "out_of_order" if applied == "stale" else outcome
    log.info(json.dumps({**line, "outcome": outcome}))
    return outcome


def account_event(event: dict[str, Any]) -> AccountEvent | None:
    """The event as link completion reads it, or None when it can complete no link (another kind, no owner or
    account, or no readable event_date: without it no click can be said to come first, nor a retry find its link)."""
    kind, owner, provider, username = (short_text(event.get(field)) for field in
                                       ("event", "origin_owner_id", "provider", "origin_username"))
    account = short_text(event.get("account_id") or event.get("record_id"))
    at = event_time(event.get("event_date"))
    if kind not in (ACCOUNT_CREATED, ACCOUNT_UPDATED) or not owner or not account or at is None:
        return None
    return AccountEvent(kind, owner, account, provider, username, at)


def staleness(sent_at: Any, now: float | None = None) -> str | None:
    """Why an event's signed sent_at puts it outside the replay window, or None when it is fresh."""
    if not isinstance(sent_at, str):
        return "sent_at missing"
    moment = parse_iso(sent_at)
    try:
        sent = moment.timestamp() if moment else None
    except (OverflowError, OSError):
        sent = None
    if sent is None:
        return "sent_at unreadable"
    age = (time.time() if now is None else now) - sent
    if age > REPLAY_WINDOW:
        return "sent_at older than the replay window"
    if age < -CLOCK_SKEW:
        return "sent_at in the future"
    return None


def short_text(value: Any) -> str | None:
    """A short scalar of a (signed) event, as text; None for anything nested, boolean or absent."""
    # Only short scalars reach the log line; setup_information and anything nested never do.
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)[:200]
    return None
