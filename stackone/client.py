"""StackOne's endpoints: connect sessions, accounts and connectors, each read into our domain types."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

from domain.accounts import Account, Connector, ConnectSession, SessionDetails
from errors import AccountNotFound, SessionNotFound, StackOneError
from stackone.transport import Transport

log = logging.getLogger(__name__)

PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 25  # StackOne's page when page_size is not sent: the least any cap of its may serve
MAX_PAGES = 10_000  # a million accounts at 100 a page; stop rather than loop forever


class StackOneClient(Transport):
    """Calls StackOne's connect-session, accounts and connectors endpoints; one instance per process."""

    def __repr__(self) -> str:
        return f"StackOneClient({self.base_url!r})"

    def create_connect_session(self, payload: dict[str, Any]) -> ConnectSession:
        """POST /connect_sessions; returns the token (and auth link URL when StackOne sends one)."""
        missing = AccountNotFound if payload.get("account_id") else None
        body = self._call("POST", "/connect_sessions", "create_session", json=payload, missing=missing)
        token = body.get("token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            log.error("StackOne answered POST /connect_sessions without a token")
            raise StackOneError("StackOne's answer did not contain a session token")
        link = body.get("auth_link_url")
        session_id = body.get("id")
        return ConnectSession(token=token, auth_link_url=link if isinstance(link, str) and link else None,
                              id=str(session_id) if isinstance(session_id, (int, str)) else None)

    def list_accounts(self, owner_id: str, provider: str | None = None) -> list[Account]:
        """GET /accounts for one owner (and provider), every page; only that owner's (and provider's) accounts."""
        params: dict[str, Any] = {"origin_owner_id": owner_id, "page_size": PAGE_SIZE}
        if provider:
            params["providers"] = provider  # StackOne's spelling: repeated keys, no brackets
        accounts: dict[str, Account] = {}
        for items in self._pages(params, PAGE_SIZE):
            # Trust nothing StackOne returns beyond what we asked: another owner's account must never count here.
            accounts.update((a.id, a) for a in items if a.id not in accounts and a.origin_owner_id == owner_id
                            and (provider is None or (a.provider or "").casefold() == provider.casefold()))
        return list(accounts.values())

    def account_pages(self, page_size: int = PAGE_SIZE) -> Iterator[list[Account]]:
        """GET /accounts for the whole project (every owner), a page at a time (a reconcile pass)."""
        return self._pages({}, page_size)

    def _pages(self, params: dict[str, Any], page_size: int) -> Iterator[list[Account]]:
        # StackOne pages by number and may serve fewer than page_size (its largest page is not documented), so a
        # short page is the last only when shorter than its default page (25, which any cap must allow); else read
        # on until an empty page, or a page of nothing new (a server that ignores `page`).
        seen: set[str] = set()
        for page in range(1, MAX_PAGES + 1):
            body = self._call("GET", "/accounts", "list_accounts",
                              params={**params, "page_size": page_size, "page": page})
            items = body.get("data") if isinstance(body, dict) else body
            if not isinstance(items, list):
                log.error("StackOne answered GET /accounts with an unexpected shape")
                raise StackOneError("StackOne's account list could not be read")
            accounts = [Account.from_api(i) for i in items if isinstance(i, dict) and i.get("id") is not None]
            fresh = [a for a in accounts if a.id not in seen]
            if not fresh:
                return
            seen.update(a.id for a in fresh)
            yield fresh
            if len(items) < min(page_size, DEFAULT_PAGE_SIZE):
                return
        # Never read as "that was all": a caller comparing the list with what it knows would take the rest for gone.
        log.error("StackOne's account list did not end within %d pages", MAX_PAGES)
        raise StackOneError("StackOne's account list did not end")

    def get_account(self, account_id: str) -> Account | None:
        """GET /accounts/{id}; None when StackOne does not know it."""
        try:
            body = self._call("GET", f"/accounts/{quote(account_id, safe='')}", "get_account", missing=AccountNotFound)
        except AccountNotFound:
            return None
        if not isinstance(body, dict) or body.get("id") is None:
            raise StackOneError("StackOne's account could not be read")
        return Account.from_api(body)

    def delete_account(self, account_id: str) -> None:
        """DELETE /accounts/{id}: disconnect the account; AccountNotFound when StackOne does not know it."""
        self._call("DELETE", f"/accounts/{quote(account_id, safe='')}", "delete_account", missing=AccountNotFound)

    def authenticate_session(self, token: str) -> SessionDetails:
        """POST /connect_sessions/authenticate: the session's owner, provider and latest connection attempt."""
        body = self._call("POST", "/connect_sessions/authenticate", "authenticate_session", json={"token": token},
                          missing=SessionNotFound)
        if not isinstance(body, dict):
            raise StackOneError("StackOne's session details could not be read")
        return SessionDetails.from_api(body)

    def connectors(self) -> list[Connector]:
        """GET /connectors/meta: every provider the project knows, enabled or not."""
        body = self._call("GET", "/connectors/meta", "connectors")
        items = body.get("data") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise StackOneError("StackOne's connector list could not be read")
        return [c for c in (Connector.from_api(i) for i in items if isinstance(i, dict)) if c is not None]
