"""Composition only: the per-app objects (settings, StackOne client, account directory, login, shared state) and what
is built from them once, kept on the app as flaskr's db.py keeps its database; `services()` finds them."""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass

from flask import current_app

from config import Settings
from connections.background import schedule_reconcile
from connections.due import DueWork
from connections.ledger import open_ledger
from connections.monitor import ConnectionMonitor
from connections.pause import EndpointPause
from connections.sender import AppWebhookSender
from errors import RateLimited
from identity.resolver import OwnerResolver
from links.store import LinkStore, open_link_store
from ratelimit import OwnerLimit
from sessions.flow import Minter
from sessions.links import LinkService
from sessions.mint import SessionSettings
from sessions.once import Once
from sessions.reservations import Reservations
from sessions.sealing import Sealer
from sessions.service import SessionService
from sessions.status import SessionPolls, asking_stackone
from stackone.client import StackOneClient
from stackone.directory import AccountDirectory
from state import SharedState
from state.keys import owner_key

EXTENSION_KEY = "stackone_connect"
CONFIG_ERROR_KEY = "stackone_connect_config_error"


@dataclass
class Services:
    """Built once by create_app; every worker process has its own (and so its own connection pool)."""

    settings: Settings
    client: StackOneClient
    accounts: AccountDirectory
    resolver: OwnerResolver
    state: SharedState

    @functools.cached_property
    def session_settings(self) -> SessionSettings:
        """What every session is minted with, from the settings."""
        settings = self.settings
        return SessionSettings(metadata=settings.sessions.metadata, hub_url=settings.stackone.hub_url,
                               api_url=settings.stackone.api_url, session_type=settings.sessions.session_type,
                               connector_profiles=settings.sessions.connector_profiles)

    @functools.cached_property
    def once(self) -> Once:
        """Do-once records in the shared state, sealed with a key derived from the API key."""
        return Once(self.state, Sealer(self.settings.stackone.api_key, "minted sessions"))

    @functools.cached_property
    def sessions(self) -> SessionService:
        """Open (decide, reuse, caps, mint), release, disconnect, status."""
        settings = self.settings

        def minter(service: SessionService) -> Minter:
            return Minter(client=self.client, accounts=self.accounts, once=self.once,
                          reservations=Reservations(self.state), session_settings=self.session_settings,
                          limits=settings.sessions.account_limits, reuse_window=settings.sessions.reuse_window,
                          sealer=Sealer(settings.stackone.api_key, "held sessions"),
                          still_pending=service.kept_session_pending,
                          # Live links of ours hold places under the caps (read when the caps are checked).
                          link_places=(lambda owner_id: self.links.places(owner_id)) if self.links_on else None)

        sending = bool(settings.events.app_webhook_url)
        return SessionService(client=self.client, accounts=self.accounts, state=self.state, polls=self.polls,
                              minter=minter, monitor=lambda: self.connections if sending else None,
                              stackone_timeout=settings.stackone.timeout)

    @property
    def links_on(self) -> bool:
        """Whether Auth Links are ours (AUTH_LINK_BASE_URL set) rather than StackOne's own."""
        return self.settings.links.base_url is not None

    @functools.cached_property
    def link_store(self) -> LinkStore:
        """Where the Auth Links of ours are kept, beside the shared state (Redis's structures, or STATE_DIR's
        database); opened when first needed."""
        return open_link_store(self.state, self.settings.state.state_dir)

    @functools.cached_property
    def links(self) -> LinkService:
        """Make, list, withdraw and click the Auth Links of ours (only with AUTH_LINK_BASE_URL set)."""
        settings = self.settings.links
        if settings.base_url is None:
            raise RuntimeError("AUTH_LINK_BASE_URL is not set: links are StackOne's own")
        return LinkService(store=self.link_store, sessions=self.sessions, base_url=settings.base_url,
                           click_lifetime=settings.click_lifetime, spend=self._click_budget())

    def _click_budget(self):
        """A link's clicks counted against its owner's OWNER_RATE_LIMIT, in a scope of their own (None: no limit)."""
        rules = self.settings.serving.owner_rate_limit
        if not rules:
            return None
        limit = OwnerLimit(self.settings, getattr(self.state, "outage", None), rules=rules, scope="link-click")

        def spend(owner_id: str) -> None:
            refused = limit.take(owner_key(owner_id))
            if refused is not None:
                rule, wait = refused
                raise RateLimited(f"This link has been opened too often ({rule}); try again in {wait} s",
                                  headers={"Retry-After": str(wait)})
        return spend

    @functools.cached_property
    def polls(self) -> SessionPolls:
        """Session outcomes kept for polling pages; StackOne asked within the owners' poll budget."""
        settings = self.settings
        budget = None
        if settings.serving.owner_status_rate_limit:
            limit = OwnerLimit(settings, getattr(self.state, "outage", None),
                               rules=settings.serving.owner_status_rate_limit, scope="status")
            budget = lambda owner_id: limit.take(owner_key(owner_id))  # noqa: E731 - one line, kept beside its limit
        return SessionPolls(self.state, asking_stackone(self.client), budget)

    @functools.cached_property
    def connections(self) -> ConnectionMonitor:
        """Each account's applied state and the events its changes make."""
        return ConnectionMonitor(open_ledger(self.state, self.settings), client=self.client,
                                 sending=bool(self.settings.events.app_webhook_url),
                                 reminder_seconds=self.settings.events.reconnect_reminder)

    @functools.cached_property
    def app_sender(self) -> AppWebhookSender | None:
        """The signed sender to APP_WEBHOOK_URL, or None when unset."""
        events = self.settings.events
        return AppWebhookSender(events.app_webhook_url, events.app_webhook_secret,
                                time_limit=events.app_webhook_timeout) if events.app_webhook_url else None

    @functools.cached_property
    def endpoint_pause(self) -> EndpointPause | None:
        """Whether delivery to APP_WEBHOOK_URL is paused (it answered 410 Gone), or None when it is unset."""
        url = self.settings.events.app_webhook_url
        return EndpointPause(self.state, url) if url else None

    def run_due(self, now: float | None = None, *, passes: bool = False) -> dict[str, int]:
        """Claim what is due in one call to the ledger and do it (connections/due.py); the background and the CLI
        call it. Nothing without APP_WEBHOOK_URL."""
        if self.app_sender is None:
            return {}
        settings = self.settings
        work = DueWork(self.connections, self.app_sender, self.endpoint_pause,
                       lambda owner, request: self.sessions.open_session(owner, request, ignore_limits=True, live=True),
                       self.client, settings.events.app_webhook_timeout, settings.stackone.request_deadline,
                       settings.events.reconcile_interval, links=self.link_store if self.links_on else None)
        return work.run(time.time() if now is None else now, passes)

    def schedule_reconcile(self, now: float) -> None:
        """Put the reconcile pass in the due index unless it is there."""
        schedule_reconcile(self.connections.ledger, self.settings.events.reconcile_interval, now)


def services() -> Services:
    """The current app's services (raises the configuration error of an app built without them)."""
    if CONFIG_ERROR_KEY in current_app.extensions:
        raise current_app.extensions[CONFIG_ERROR_KEY]
    return current_app.extensions[EXTENSION_KEY]
