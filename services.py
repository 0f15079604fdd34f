"""The per-app objects (settings, StackOne client, account directory, owner resolver), kept on the app."""

from __future__ import annotations

import functools
import hashlib
import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask import current_app, g, has_request_context, request

from config import Settings
from connect_flow import IssuedSession, SessionSettings, session_outcome
from connections.delivery import deliver_due
from connections.ledger import DUE_BATCH, NEW, PASS, REMIND, RETRY, open_ledger
from connections.monitor import ConnectionMonitor
from connections.outbox import lease_for
from connections.pause import EndpointPause
from connections.reconcile import run_pass
from connections.sender import AppWebhookSender
from domain.accounts import Account
from domain.times import parse_iso
from errors import ServiceBusy, ServiceError, StateUnavailable, Unauthorized
from identity.owner import Owner, owner_key
from identity.resolver import OwnerResolver
from logs.access import RequestObserver
from minting.flow import Minter
from minting.once import Once
from minting.reservations import Reservations
from minting.sealing import Sealer
from policy import SessionRequest
from policy.lifecycle import account_to_disconnect, session_status
from polling import SessionPolls
from schemas.session_request import SESSION_EXPIRY
from serving.deadline import deadline_slice
from stackone.client import StackOneClient
from stackone.directory import AccountDirectory
from state import SharedState

log = logging.getLogger(__name__)
EXTENSION_KEY = "stackone_connect"
DEFAULT_SESSION_LIFETIME = SESSION_EXPIRY["default"]
REUSE_CHECK_SHARE = 1 / 3  # of the deadline left, for asking whether a kept session is unused
CONFIG_ERROR_KEY = "stackone_connect_config_error"


@dataclass
class Services:
    """Built once by create_app; every worker process has its own (and so its own connection pool)."""

    settings: Settings
    client: StackOneClient
    accounts: AccountDirectory
    resolver: OwnerResolver
    state: SharedState
    observer: RequestObserver

    @functools.cached_property
    def session_settings(self) -> SessionSettings:
        """What every session is minted with, from the settings (made once)."""
        settings = self.settings
        return SessionSettings(metadata=settings.metadata, hub_url=settings.stackone_hub_url,
                               api_url=settings.stackone_api_url, session_type=settings.session_type,
                               connector_profiles=settings.connector_profiles)

    @functools.cached_property
    def once(self) -> Once:
        """Do-once records in the shared state, sealed with a key derived from the API key (made once)."""
        return Once(self.state, Sealer(self.settings.stackone_api_key, "minted sessions"))

    @functools.cached_property
    def minter(self) -> Minter:
        """Decide and mint with reuse and caps (made once)."""
        return Minter(client=self.client, accounts=self.accounts, once=self.once,
                      reservations=Reservations(self.state), session_settings=self.session_settings,
                      limits=self.settings.account_limits, reuse_window=self.settings.session_reuse_window,
                      sealer=Sealer(self.settings.stackone_api_key, "held sessions"),
                      still_pending=self._kept_session_pending)

    def _kept_session_pending(self, owner: Owner, token: str) -> bool | None:
        """Whether a kept session may be handed out again: its polled outcome when fresh (a page polling its hub
        keeps it), else StackOne asked by one caller across the fleet within a third of what is left of its deadline,
        the others waiting as long for that answer. A failed or too slow ask says no (minting afresh is then the
        quicker way to a session); None when another's answer did not come in time (mint without dropping it)."""
        try:
            with deadline_slice(REUSE_CHECK_SHARE):
                give_up_at = g.get("deadline") if has_request_context() else None
                if give_up_at is None:
                    give_up_at = time.monotonic() + self.settings.stackone_timeout
                details = self.polls.checked(owner.id, token, give_up_at)
        except ServiceError:
            return False
        if details is None:
            return None
        return details.origin_owner_id == owner.id and details.attempt_status in (None, "pending")

    @functools.cached_property
    def connections(self) -> ConnectionMonitor:
        """Each account's applied state and the events its changes make (made once)."""
        return ConnectionMonitor(open_ledger(self.state, self.settings), client=self.client,
                                 sending=bool(self.settings.app_webhook_url),
                                 reminder_seconds=self.settings.reconnect_reminder)

    @functools.cached_property
    def app_sender(self) -> AppWebhookSender | None:
        """The signed sender to APP_WEBHOOK_URL, or None when unset."""
        settings = self.settings
        return AppWebhookSender(settings.app_webhook_url, settings.app_webhook_secret,
                                time_limit=settings.app_webhook_timeout) if settings.app_webhook_url else None

    @functools.cached_property
    def endpoint_pause(self) -> EndpointPause | None:
        """Whether delivery to APP_WEBHOOK_URL is paused (it answered 410 Gone), or None when it is unset."""
        url = self.settings.app_webhook_url
        return EndpointPause(self.state, url) if url else None

    def run_due(self, now: float | None = None, *, passes: bool = False) -> dict[str, int]:
        """Claim what is due in one call to the ledger and do it: reminders, deliveries (first attempts ahead of
        retries) and, with `passes`, the scheduled reconcile pass; the background and the CLI call it."""
        if self.app_sender is None:
            return {}
        with StackOneClient.background():  # reminders, reconnect links, reconcile: StackOne's background share
            return self._run_due(time.time() if now is None else now, passes)

    def _run_due(self, now: float, passes: bool) -> dict[str, int]:
        ledger = self.connections.ledger
        paused = self.endpoint_pause.paused() is not None
        # While paused (a 410), no delivery is claimed: every event waits, with no attempt counted.
        limits = {**DUE_BATCH, PASS: 1 if passes else 0, **({NEW: 0, RETRY: 0} if paused else {})}
        claims = ledger.claim(now, lease_for(self.settings.app_webhook_timeout, self.settings.request_deadline),
                              limits)
        counts = {"reminded": sum(self.connections.remind(c) for c in claims if c.kind == REMIND)}
        if paused:
            counts.update(held=ledger.backlog(), paused=1)
        else:
            sends = [c for c in claims if c.kind in (NEW, RETRY)]
            counts.update(deliver_due(ledger, sends, self.app_sender,
                                      lambda owner, request: self.open_session(owner, request, ignore_limits=True,
                                                                               live=True), self.endpoint_pause, now))
        for claim in claims:
            if claim.kind == PASS:
                # Beside the ticks, not inside one: a pass over a large project takes minutes, and deliveries and
                # reminders go on meanwhile (its lease, renewed after every page, keeps it this worker's).
                threading.Thread(target=self._run_pass, args=(claim,), name="reconcile-pass", daemon=True).start()
                counts["passes_started"] = counts.get("passes_started", 0) + 1
        return counts

    def _run_pass(self, claim) -> None:
        with StackOneClient.background():  # StackOne's budget: the background share, behind the mints
            try:
                run_pass(self, claim)
            except Exception as exc:  # noqa: BLE001 - a thread's end: logged, and its lease lapses for another
                log.warning("reconcile pass ended early (%s); it is tried again once its lease lapses",
                            type(exc).__name__)

    def open_session(self, owner: Owner, request: SessionRequest, *, ignore_limits: bool = False,
                     live: bool = False) -> IssuedSession:
        """The one way in for the routes and the CLI: decided, reused or minted within the caps."""
        deadline = g.get("deadline") if has_request_context() else None
        issued = self.minter.open_session(owner, request, deadline=deadline, ignore_limits=ignore_limits, live=live)
        if has_request_context():
            g.action = issued.decision.action.value  # for the request's access line
        # StackOne's session details may not say when the session ends. A session with the default lifetime (the
        # common case) needs no record: its end is StackOne's created_at plus that default. Any other lifetime (auth
        # links, an explicit expiresIn) is remembered for the status route, best effort.
        if issued.expires_in != DEFAULT_SESSION_LIFETIME:
            try:
                self.state.set(_session_key(issued.token), issued.expires_at.timestamp(),
                               ttl=issued.expires_in + 3600)
            except StateUnavailable:
                pass
        return issued

    def release_session(self, owner: Owner, token: str) -> bool:
        """Free the caps place the owner's session holds (its page closed the hub without connecting)."""
        return self.minter.release(owner, token, deadline=g.get("deadline") if has_request_context() else None)

    def disconnect(self, owner: Owner, account_id: str) -> Account:
        """Delete one of the owner's accounts at StackOne (checked live first) and drop the owner's cache."""
        account = account_to_disconnect(owner, account_id, self.accounts)
        self.client.delete_account(account.id)
        try:
            self.accounts.forget_owner(owner.id)
        except StateUnavailable:
            pass  # deleted at StackOne all the same; the cache expires by its TTL and the webhook retries
        if self.settings.app_webhook_url:
            try:  # connection.deleted, described as the account was read just now (seen here before or not)
                self.connections.deleted_here(account, "disconnect")
            except (StateUnavailable, ServiceBusy):
                pass  # deleted all the same; StackOne's account.deleted announces it if the account was known here
        return account

    @functools.cached_property
    def polls(self) -> SessionPolls:
        """Session outcomes kept for polling pages; StackOne asked within the owners' poll budget (made once)."""
        from ratelimit import OwnerLimit  # imports this module (current_owner): imported when first needed

        settings = self.settings
        budget = None
        if settings.owner_status_rate_limit:
            limit = OwnerLimit(settings, getattr(self.state, "outage", None),
                               rules=settings.owner_status_rate_limit, scope="status")
            budget = lambda owner_id: limit.take(owner_key(owner_id))  # noqa: E731 - one line, kept beside its limit
        # Without attempts, read off the accounts asked live: the cache may predate the account this session made.
        return SessionPolls(self.state, _polled(self.client), budget)

    def session_status(self, owner: Owner, token: str) -> dict[str, str]:
        """How the owner's session went (pending, authenticated, ...): kept, settled by a webhook, or asked."""
        details = self.polls.details(owner.id, token)
        try:
            recorded = self.state.get(_session_key(token))
        except StateUnavailable:
            recorded = None
        if isinstance(recorded, (int, float)):
            expires_at = datetime.fromtimestamp(recorded, UTC)
        else:
            created = parse_iso(details.created_at)
            expires_at = created + timedelta(seconds=DEFAULT_SESSION_LIFETIME) if created else None
        return session_status(owner, details, expires_at=expires_at)


def _polled(client: StackOneClient):
    """How a poll asks StackOne: as background work in StackOne's budget (a page polls every few seconds)."""
    def ask(owner_id: str, token: str):
        with StackOneClient.background():
            return session_outcome(client, owner_id, token)
    return ask


def _session_key(token: str) -> str:
    # The token is a bearer credential: only its digest is ever a key.
    return "session-expiry:" + hashlib.sha256(token.encode()).hexdigest()


def services() -> Services:
    """The current app's services (raises the configuration error of an app built without them)."""
    if CONFIG_ERROR_KEY in current_app.extensions:
        raise current_app.extensions[CONFIG_ERROR_KEY]
    return current_app.extensions[EXTENSION_KEY]


def current_owner() -> Owner:
    """The caller's owner, from the configured login (once per request); raises Unauthorized (401)."""
    if "owner" not in g:
        # Resolved once per request, refusal included: the rate limit and the view both ask.
        if "owner_refused" in g:
            raise g.owner_refused
        try:
            g.owner = services().resolver.resolve(request.headers, request.cookies)
        except Unauthorized as refused:
            g.owner_refused = refused
            raise
    return g.owner
