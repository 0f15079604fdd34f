"""The per-app objects (settings, StackOne client, account directory, owner resolver), kept on the app."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, request

from config import Settings
from connect_flow import IssuedSession, open_session
from identity.owner import Owner
from identity.resolver import OwnerResolver
from policy import SessionRequest
from stackone.client import StackOneClient
from stackone.directory import AccountDirectory
from state import SharedState

EXTENSION_KEY = "stackone_connect"


@dataclass
class Services:
    """Built once by create_app; every worker process has its own (and so its own connection pool)."""

    settings: Settings
    client: StackOneClient
    accounts: AccountDirectory
    resolver: OwnerResolver
    state: SharedState

    def open_session(self, owner: Owner, request: SessionRequest) -> IssuedSession:
        """The one way in for the routes and the CLI: this app's policy inputs, client, metadata and hub URL."""
        return open_session(owner, request, accounts=self.accounts, client=self.client,
                            metadata=self.settings.metadata, hub_url=self.settings.stackone_hub_url,
                            api_url=self.settings.stackone_api_url)


def services() -> Services:
    """The current app's services."""
    return current_app.extensions[EXTENSION_KEY]


def current_owner() -> Owner:
    """The caller's owner, from the configured login; raises Unauthorized (401)."""
    return services().resolver.resolve(request.headers, request.cookies)
