"""The mint, made safe to repeat: the policy's decision, then live-session reuse, then the caps and StackOne."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import TypeVar

from domain.accounts import SessionDetails
from errors import AccountLimitReached, InProgress, ServiceBusy, StateUnavailable
from identity.owner import Owner
from policy import Action, Decision, SessionRequest, decide
from policy.caps import AccountLimits, Reservation, check_caps, still_pending
from sessions.mint import IssuedSession, SessionSettings, mint_session, session_outcome
from sessions.once import Once
from sessions.reservations import Reservations
from sessions.reuse import as_record, from_record, half_life_left, just_minted, reuse_key
from sessions.sealing import Sealer
from stackone.client import StackOneClient
from stackone.directory import AccountDirectory
from state.keys import digest

T = TypeVar("T")


class Minter:
    """Decides and mints for the routes and the CLI, with reuse (SESSION_REUSE_WINDOW) and caps (ACCOUNT_LIMITS)."""

    def __init__(self, *, client: StackOneClient, accounts: AccountDirectory, once: Once, reservations: Reservations,
                 session_settings: SessionSettings, limits: AccountLimits | None, reuse_window: int,
                 sealer: Sealer, still_pending: Callable[[Owner, str], bool | None] | None = None,
                 link_places: Callable[[str], list[Reservation]] | None = None) -> None:
        self._client = client
        self._accounts = accounts
        self._once = once
        self._reservations = reservations
        self._sealer = sealer
        # Whether a kept session is still unused; by default StackOne is asked (the service passes a cheaper one).
        self._still_pending = still_pending or (
            lambda owner, token: _pending(session_outcome(self._client, owner.id, token)))
        self._settings = session_settings
        self._limits = limits or AccountLimits()
        self._reuse_window = reuse_window
        # The places the owner's live Auth Links of our own hold (AUTH_LINK_BASE_URL); none without.
        self._link_places = link_places or (lambda owner_id: [])

    def open_session(self, owner: Owner, request: SessionRequest, *, deadline: float | None = None,
                     ignore_limits: bool = False, live: bool = False, for_link: str | None = None) -> IssuedSession:
        """Decide (from a live lookup when `live`), then hand out this person's still-pending session for the same
        decision, or mint one within the caps. A refusal raises before StackOne is asked to mint.

        `for_link`: the handle of the live link whose click this is. Its session is the link's own: never reused (each
        click gets a session of its own), and it holds no place of its own under the caps, as the link holds one
        until it ends; the link's place is not counted against its own click."""
        decision = decide(owner, request, self._client_lookup() if live else self._accounts)
        again = reuse_key(owner, decision, request)

        def mint() -> IssuedSession:
            return self._mint_within_caps(owner, request, decision, again, deadline, ignore_limits, for_link)

        if not self._reuse_window or for_link is not None:
            return mint()
        minted: list[IssuedSession] = []

        def produce() -> dict:
            minted.append(mint())
            return as_record(minted[0])

        # Wait for an identical request ahead for half of what is left at most: the rest may be needed to mint.
        wait_until = None if deadline is None else time.monotonic() + max(0.0, deadline - time.monotonic()) / 2

        def usable(record: dict) -> bool:
            fit = self._still_usable(owner, record)
            if fit is None:
                raise _Unchecked()
            return fit

        try:
            record, _ = self._once.run(again, "reuse", produce, ttl=self._reuse_window,
                                       deadline=wait_until, usable=usable)
        except StateUnavailable:
            if minted:
                return minted[0]  # minted; only the record could not be kept
            return mint()  # reuse is a convenience: without the shared state, mint as if it were off
        except (InProgress, _Unchecked):
            # The identical request ahead has not finished within our deadline (or its host died holding the claim),
            # or the kept session's check by another caller has not answered in time: reuse promises no more than a
            # convenience, so this one gets its own session rather than a 409 (the kept one is left to the checker).
            return mint()
        return from_record(record, decision)

    def _client_lookup(self):
        # The operator's commands decide from StackOne itself, not from the 60-second cache.
        return _LiveLookup(self._client, self._accounts)

    def _still_usable(self, owner: Owner, record: dict) -> bool | None:
        """A kept session is handed out again only while unused (pending) and with half its lifetime left (None:
        not known in time)."""
        now = time.time()
        if not half_life_left(record, now):
            return False
        if just_minted(record, now):
            return True  # the double click: no StackOne call to hand it out again
        return self._still_pending(owner, record["token"])

    def place_link(self, owner: Owner, request: SessionRequest, make: Callable[[Decision], T], *,
                   deadline: float | None = None, live: bool = False) -> T:
        """Decide now and, within the caps, `make` the link for that decision (nothing is minted at StackOne: a link
        of ours holds its place from then on, counted by `link_places`). A refusal raises before it is made."""
        decision = decide(owner, request, self._client_lookup() if live else self._accounts)
        if not self._limits or decision.action is Action.UPDATE:
            return make(decision)
        with self._reservations.owner_locked(owner.id, deadline) as lease:
            accounts, pending = self._places(owner.id, None)
            check_caps(self._limits, decision, accounts, pending)
            _still_ours(lease)
            return make(decision)

    def _places(self, owner_id: str, for_link: str | None) -> tuple[list, list[Reservation]]:
        """The owner's accounts (asked live: the cache may miss one just made) and what holds a place besides: the
        pending sessions, then the live links (but the one whose click this is)."""
        accounts = self._client.list_accounts(owner_id)
        pending = still_pending(self._reservations.held(owner_id), accounts, time.time())
        # A link's place is not consumed by an account the way a session's is: it holds it until it ends (completed,
        # withdrawn or expired), which its store knows.
        links = [place for place in self._link_places(owner_id) if place.link != for_link]
        return accounts, pending + links

    def _mint_within_caps(self, owner: Owner, request: SessionRequest, decision: Decision, again: str,
                          deadline: float | None, ignore_limits: bool, for_link: str | None) -> IssuedSession:
        if not self._limits or ignore_limits or decision.action is Action.UPDATE:
            return mint_session(owner, request, decision, client=self._client, settings=self._settings)
        # One decision at a time per owner across the fleet: two creates at N-1 cannot both pass.
        with self._reservations.owner_locked(owner.id, deadline) as lease:
            accounts, counted = self._places(owner.id, for_link)
            try:
                check_caps(self._limits, decision, accounts, counted)
            except AccountLimitReached:
                # The place may be this person's own, for this very decision: their session again, not a refusal.
                kept = None if for_link else self._held_session(owner, decision, again, counted)
                if kept is None:
                    raise
                return kept
            _still_ours(lease)
            issued = mint_session(owner, request, decision, client=self._client, settings=self._settings)
            if for_link is not None:
                return issued  # the link holds the place this session would have held
            pending = [r for r in counted if r.link is None]
            mine = Reservation(
                decision.provider, time.time(), issued.expires_at.timestamp(), frozenset(a.id for a in accounts),
                holder=request.origin_username or owner.username, kind=request.kind,
                session=digest(issued.token), reuse=again,
                sealed=self._sealer.seal(json.dumps(as_record(issued)), again))
            # Read again before writing: had the lease lapsed during the mint, another host's reservation written
            # meanwhile is kept beside ours rather than overwritten.
            latest = self._reservations.held(owner.id)
            known = {(r.session, r.at) for r in latest}
            self._reservations.keep(owner.id, latest + [r for r in pending if (r.session, r.at) not in known] + [mine])
        return issued

    def _held_session(self, owner: Owner, decision: Decision, again: str, pending: list[Reservation]
                      ) -> IssuedSession | None:
        """This person's pending session for this decision, while still pending with half its life left."""
        for reservation in reversed(pending):
            if reservation.reuse != again:
                continue
            text = self._sealer.open(reservation.sealed, bound_to=again)
            record = json.loads(text) if text else None
            if isinstance(record, dict) and self._still_usable(owner, record):
                return from_record(record, decision)
        return None

    def release(self, owner: Owner, token: str, *, deadline: float | None = None) -> bool:
        """Free the place a session of this owner holds under the caps (its page closed the hub without connecting):
        True when it held one. The token itself lives on at StackOne until it expires (it cannot be revoked)."""
        if not self._limits:
            return False
        session = digest(token)
        with self._reservations.owner_locked(owner.id, deadline):
            held = self._reservations.held(owner.id)
            # A session's place only: a link is sent to someone who may still use it, and holds its place till it ends.
            freed = [r for r in held if r.session == session and r.kind == "session"]
            if not freed:
                return False  # not this owner's, already consumed or expired: nothing to free, nothing to tell
            self._reservations.keep(owner.id, [r for r in held if r not in freed])
        for reservation in freed:
            if reservation.reuse:
                self._once.forget(reservation.reuse)  # a reload must not hand the released session out again
        return True


def _still_ours(lease) -> None:
    """Refuse (503, try again) when the owner's lock lapsed: another host may be deciding for this owner now."""
    if lease.lost:
        # The shared state was unreachable for longer than the lease.
        raise ServiceBusy("Another request of your organisation is connecting an account; try again shortly",
                          headers={"Retry-After": "1"})


class _Unchecked(Exception):
    """Whether a kept session is still unused was not known within this request's share of its deadline."""


class _LiveLookup:
    """policy.AccountLookup answered by StackOne directly (the owner's accounts uncached)."""

    def __init__(self, client: StackOneClient, accounts: AccountDirectory) -> None:
        self._client = client
        self._accounts = accounts

    def owner_accounts(self, owner_id: str, provider: str | None):
        """The owner's non-archived accounts, asked of StackOne now."""
        return [a for a in self._client.list_accounts(owner_id, provider) if not a.archived]

    def account(self, account_id: str):
        """One account (the directory asks StackOne live for these anyway)."""
        return self._accounts.account(account_id)

    def enabled_providers(self):
        """The enabled providers (the connector list's cache is fine: it is not about accounts)."""
        return self._accounts.enabled_providers()


def _pending(details: SessionDetails) -> bool:
    return details.attempt_status in (None, "pending")

