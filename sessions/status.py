"""A session's outcome for the pages that poll it: kept in the shared state, so that StackOne is asked about one
session at most once every few seconds across every worker and host, and settled at once by an account.created
webhook for the session's owner and provider.

Only a digest of the token is ever a key. A poll that must ask StackOne (nothing kept yet, or a pending outcome
gone stale) is counted against the owner's poll budget (OWNER_STATUS_RATE_LIMIT); over it, a session with a kept
outcome is answered from that outcome, and only a token nothing is known of is refused (429).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime

from domain.accounts import SessionDetails
from domain.times import parse_iso
from errors import RateLimited, StateUnavailable
from sessions.mint import session_outcome
from stackone.client import StackOneClient
from state import SharedState, keys
from state.waiting import wait_until

# A pending outcome is answered from the state for this long before StackOne is asked again (the hub and the kit
# poll every 2 s: StackOne hears of a session about once in three polls).
PENDING_FRESH = 5.0
# How long any outcome is kept: a stale pending one still answers the owner's polls once their budget is spent.
KEEP = 3600
# How long an account.created webhook may settle a session still pending for its owner and provider.
CREATED_TTL = 3600
# How often a caller waiting for another's answer about a session looks for it.
WAIT_POLL = 0.05

# The refusal (rule, seconds to wait) of the owner's poll budget, or None when the poll may ask StackOne.
Budget = Callable[[str], tuple | None]
Ask = Callable[[str, str], SessionDetails]


def asking_stackone(client: StackOneClient) -> Ask:
    """How a poll asks StackOne: as background work in StackOne's budget (a page polls every few seconds); without
    attempts in StackOne's answer, read off the owner's accounts asked live (the cache may predate the account)."""
    def ask(owner_id: str, token: str) -> SessionDetails:
        with StackOneClient.background():
            return session_outcome(client, owner_id, token)
    return ask


@dataclass(frozen=True)
class Kept:
    """An outcome in the state: StackOne's details and until when they are answered without asking again."""

    details: SessionDetails
    fresh_until: float | None  # None: final, never asked again

    def fresh(self, now: float) -> bool:
        """True while this outcome is answered as it is."""
        return self.fresh_until is None or now < self.fresh_until


def final(details: SessionDetails) -> bool:
    """True once nothing more can happen to the session that a poll waits for (an account was connected)."""
    # Error and cancelled are not final: the user may try again in the same hub, within the session's life.
    return details.attempt_status == "authenticated"


class SessionPolls:
    """Answers polls from the kept outcome; asks StackOne (through `ask`) when none is fresh and the budget allows."""

    def __init__(self, state: SharedState, ask: Ask, budget: Budget | None = None) -> None:
        self.state = state
        self.ask = ask
        self.budget = budget

    def details(self, owner_id: str, token: str, now: float | None = None) -> SessionDetails:
        """The session's details for this poll: kept, settled by a webhook, or asked of StackOne."""
        now = time.time() if now is None else now
        kept = self._read(token)
        if kept is not None:
            settled = self._settled(kept.details)
            if settled is not None:
                self._write(token, settled, now)
                return settled
            if kept.fresh(now) or not self._claim(token) or self._refused(owner_id) is not None:
                return kept.details  # asked by another poll just now, or over the budget: as last known
        else:
            refused = self._refused(owner_id)
            if refused is not None:
                rule, wait = refused
                raise RateLimited(f"Your organisation has asked for the status of too many sessions ({rule}); try "
                                  f"again in {wait} s", headers={"Retry-After": str(wait)})
        asked = self.ask(owner_id, token)
        details = self._settled(asked) or asked
        self._write(token, details, now)
        return details

    def checked(self, owner_id: str, token: str, give_up_at: float) -> SessionDetails | None:
        """The session's details as known now, for handing it out again: kept and fresh, asked of StackOne by this
        caller alone across the fleet, or awaited from the caller asking now until `give_up_at` (time.monotonic()).
        None when no answer came in time. Raises what the ask raises (its claim then freed for the waiters to see)."""
        kept = self._read(token)
        if kept is not None:
            settled = self._settled(kept.details)
            if settled is not None:
                self._write(token, settled, time.time())
                return settled
            if kept.fresh(time.time()):
                return kept.details
        if not self._claim(token):
            return self._awaited(token, give_up_at)
        if self._refused(owner_id) is not None:
            self._unclaim(token)
            return None  # over the owner's poll budget: unknown, not refused (a fresh mint needs no status call)
        try:
            asked = self.ask(owner_id, token)
        except BaseException:
            self._unclaim(token)  # the waiters stop waiting at once rather than at the end of their slice
            raise
        details = self._settled(asked) or asked
        self._write(token, details, time.time())
        return details

    def _awaited(self, token: str, give_up_at: float) -> SessionDetails | None:
        # Another caller asks StackOne: its answer is written as a fresh outcome; its claim goes if it failed.
        def answered() -> tuple[SessionDetails | None] | None:
            kept = self._read(token)
            if kept is not None and kept.fresh(time.time()):
                return (kept.details,)
            return None if self._asking(token) else (None,)  # (None,): the asker failed, stop waiting

        found = wait_until(answered, give_up_at, WAIT_POLL)
        return found[0] if found else None

    def _refused(self, owner_id: str) -> tuple | None:
        return self.budget(owner_id) if self.budget is not None else None

    def _read(self, token: str) -> Kept | None:
        try:
            value = self.state.get(keys.session_outcome(token))
        except StateUnavailable:
            return None
        try:
            return Kept(SessionDetails(**value["details"]), value["fresh_until"])
        except (TypeError, KeyError):
            return None  # absent, or written by another version: asked again

    def _write(self, token: str, details: SessionDetails, now: float) -> None:
        fresh_until = None if final(details) else now + PENDING_FRESH
        try:
            self.state.set(keys.session_outcome(token), {"details": asdict(details),
                                                           "fresh_until": fresh_until}, ttl=KEEP)
        except StateUnavailable:
            pass  # asked again next time

    def _claim(self, token: str) -> bool:
        # Of the polls that find the outcome stale at once, on any worker or host, one asks StackOne.
        try:
            return self.state.add(keys.session_asking(token), 1, ttl=PENDING_FRESH)
        except StateUnavailable:
            return True

    def _unclaim(self, token: str) -> None:
        try:
            self.state.delete(keys.session_asking(token))
        except StateUnavailable:
            pass  # it expires with PENDING_FRESH

    def _asking(self, token: str) -> bool:
        try:
            return self.state.get(keys.session_asking(token)) is not None
        except StateUnavailable:
            return False

    def _settled(self, details: SessionDetails) -> SessionDetails | None:
        """The details as authenticated when an account.created webhook for the session's owner and provider came
        after the session was created; else None. Like the accounts read, it cannot tell apart two sessions of one
        owner open at once for one provider."""
        if final(details) or details.account_id or not (details.origin_owner_id and details.provider):
            return None  # an update session names its account: StackOne's own answer says when it is done
        try:
            created = self.state.get(keys.account_created(details.origin_owner_id, details.provider))
        except StateUnavailable:
            return None
        opened = parse_iso(details.created_at)
        if not isinstance(created, dict) or opened is None or not isinstance(created.get("accountId"), str):
            return None
        if not isinstance(created.get("at"), (int, float)) or created["at"] < math.floor(opened.timestamp()):
            return None  # an account made before this session: not its outcome
        if created.get("username") and details.origin_username and created["username"] != details.origin_username:
            return None  # a colleague's connection: not this person's session
        return replace(details, attempt_status="authenticated", attempt_account_id=created["accountId"])


def remember_created(state: SharedState, owner_id: str | None, provider: str | None, account_id: str | None,
                     event_date: object, username: str | None = None) -> None:
    """Note a signed account.created event, so that the owner's pending session for that provider settles at once."""
    if not (owner_id and provider and account_id):
        return
    at = parse_iso(event_date)
    stamp = at.timestamp() if isinstance(at, datetime) else time.time()
    state.set(keys.account_created(owner_id, provider), {"accountId": account_id, "at": stamp, "username": username},
              ttl=CREATED_TTL)
