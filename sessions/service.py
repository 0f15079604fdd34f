"""The session use cases the routes and the CLI call: open (decide, reuse, caps, mint), release, disconnect, status.

No Flask here: the request's deadline comes from domain.deadline, and the web layer records what it needs (the
action for the access line) from what these return.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from connections.monitor import ConnectionMonitor
from domain import deadline
from domain.accounts import Account
from domain.times import parse_iso
from errors import ServiceBusy, ServiceError, StateUnavailable
from identity.owner import Owner
from policy import SessionRequest
from policy.lifecycle import account_to_disconnect, session_status
from policy.types import SESSION_EXPIRY
from sessions.flow import Minter
from sessions.mint import IssuedSession
from sessions.status import SessionPolls
from stackone.client import StackOneClient
from stackone.directory import AccountDirectory
from state import SharedState, keys

DEFAULT_SESSION_LIFETIME = SESSION_EXPIRY["default"]
REUSE_CHECK_SHARE = 1 / 3  # of the deadline left, for asking whether a kept session is unused


class SessionService:
    """Opens, releases and reports on the owners' sessions, and disconnects their accounts."""

    def __init__(self, *, client: StackOneClient, accounts: AccountDirectory, state: SharedState, polls: SessionPolls,
                 minter: Callable[[SessionService], Minter], monitor: Callable[[], ConnectionMonitor | None],
                 stackone_timeout: float) -> None:
        self._client = client
        self._accounts = accounts
        self._state = state
        self.polls = polls
        self.minter = minter(self)
        self._monitor = monitor  # the connection monitor, when events are sent (made when first needed)
        self._stackone_timeout = stackone_timeout

    def open_session(self, owner: Owner, request: SessionRequest, *, ignore_limits: bool = False,
                     live: bool = False, for_link: str | None = None) -> IssuedSession:
        """The one way in for the routes and the CLI: decided, reused or minted within the caps (`for_link`: the
        click of that live link of ours, sessions.flow.Minter.open_session says what changes)."""
        issued = self.minter.open_session(owner, request, deadline=deadline.current(), ignore_limits=ignore_limits,
                                          live=live, for_link=for_link)
        # StackOne's session details may not say when the session ends. A session with the default lifetime (the
        # common case) needs no record: its end is StackOne's created_at plus that default. Any other lifetime (auth
        # links, an explicit expiresIn) is remembered for the status route, best effort.
        if issued.expires_in != DEFAULT_SESSION_LIFETIME:
            try:
                self._state.set(keys.session_expiry(issued.token), issued.expires_at.timestamp(),
                                ttl=issued.expires_in + 3600)
            except StateUnavailable:
                pass
        return issued

    def kept_session_pending(self, owner: Owner, token: str) -> bool | None:
        """Whether a kept session may be handed out again: its polled outcome when fresh (a page polling its hub
        keeps it), else StackOne asked by one caller across the fleet within a third of what is left of its deadline,
        the others waiting as long for that answer. A failed or too slow ask says no (minting afresh is then the
        quicker way to a session); None when another's answer did not come in time (mint without dropping it)."""
        try:
            with deadline.slice_of(REUSE_CHECK_SHARE):
                give_up_at = deadline.current()
                if give_up_at is None:
                    give_up_at = time.monotonic() + self._stackone_timeout
                details = self.polls.checked(owner.id, token, give_up_at)
        except ServiceError:
            return False
        if details is None:
            return None
        return details.origin_owner_id == owner.id and details.attempt_status in (None, "pending")

    def release_session(self, owner: Owner, token: str) -> bool:
        """Free the caps place the owner's session holds (its page closed the hub without connecting)."""
        return self.minter.release(owner, token, deadline=deadline.current())

    def disconnect(self, owner: Owner, account_id: str) -> Account:
        """Delete one of the owner's accounts at StackOne (checked live first) and drop the owner's cache."""
        account = account_to_disconnect(owner, account_id, self._accounts)
        self._client.delete_account(account.id)
        try:
            self._accounts.forget_owner(owner.id)
        except StateUnavailable:
            pass  # deleted at StackOne all the same; the cache expires by its TTL and the webhook retries
        monitor = self._monitor()
        if monitor is not None:
            try:  # connection.deleted, described as the account was read just now (seen here before or not)
                monitor.deleted_here(account, "disconnect")
            except (StateUnavailable, ServiceBusy):
                pass  # deleted all the same; StackOne's account.deleted announces it if the account was known here
        return account

    def session_status(self, owner: Owner, token: str) -> dict[str, str]:
        """How the owner's session went (pending, authenticated, ...): kept, settled by a webhook, or asked."""
        details = self.polls.details(owner.id, token)
        try:
            recorded = self._state.get(keys.session_expiry(token))
        except StateUnavailable:
            recorded = None
        if isinstance(recorded, (int, float)):
            expires_at = datetime.fromtimestamp(recorded, UTC)
        else:
            created = parse_iso(details.created_at)
            expires_at = created + timedelta(seconds=DEFAULT_SESSION_LIFETIME) if created else None
        return session_status(owner, details, expires_at=expires_at)
