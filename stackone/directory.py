"""The policy's view of StackOne accounts: owner-checked, archived left out, cached across workers."""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import asdict

from domain.accounts import Account, Connector
from errors import ServiceError, StateUnavailable
from stackone.client import StackOneClient
from state import SharedState, keys
from state.waiting import wait_until

log = logging.getLogger(__name__)

# A stale connector list is still served while one request refreshes it, for this many TTLs at most.
STALE_FACTOR = 10
WAIT_STEP = 0.05


class AccountDirectory:
    """Implements policy.AccountLookup on top of the StackOne client and the shared state."""

    def __init__(
        self,
        client: StackOneClient,
        state: SharedState,
        *,
        account_ttl: int,
        connectors_ttl: int,
        enabled_providers: frozenset[str] | None = None,
    ) -> None:
        self._client = client
        self._state = state
        self._account_ttl = account_ttl
        self._connectors_ttl = connectors_ttl
        self._enabled = enabled_providers

    def owner_accounts(self, owner_id: str, provider: str | None = None, *, include_archived: bool = False
                       ) -> list[Account]:
        """The owner's accounts (archived left out unless asked), only those whose origin_owner_id is the owner's."""
        key = self._accounts_key(owner_id, provider) if self._account_ttl > 0 else None
        cached = _quietly(self._state.get, key) if key else None
        if isinstance(cached, list):
            accounts = [Account.from_dict(item) for item in cached]
        else:
            accounts = self._client.list_accounts(owner_id, provider)
            if key:
                _quietly(self._state.set, key, [a.as_dict() for a in accounts], ttl=self._account_ttl)
        return accounts if include_archived else [a for a in accounts if not a.archived]

    def _accounts_key(self, owner_id: str, provider: str | None) -> str | None:
        # The owner's generation changes on every account webhook, which orphans older entries. Without the
        # state (Redis down) there is no key: StackOne, the record, is asked live.
        try:
            generation = self._state.get(keys.accounts_generation(owner_id)) or "0"
        except StateUnavailable:
            return None
        return keys.accounts(owner_id, generation, provider)

    def account(self, account_id: str) -> Account | None:
        """One account by id (not cached: ownership is checked against StackOne's current answer)."""
        return self._client.get_account(account_id)

    def enabled_providers(self) -> frozenset[str]:
        """STACKONE_ENABLED_PROVIDERS when set, else the project's active connectors, cached."""
        if self._enabled is not None:
            return self._enabled
        return frozenset(c.key for c in self.connectors() if c.active)

    def providers(self) -> list[Connector]:
        """The enabled providers with their names and categories, for a page to offer; sorted by name."""
        enabled = self.enabled_providers()
        try:
            known = {c.key: c for c in self.connectors()}
        except ServiceError:
            if self._enabled is None:
                raise
            # The names are cosmetic and the list is configured: degrade to keys rather than fail the page.
            log.warning("connector names unavailable; listing STACKONE_ENABLED_PROVIDERS by key")
            known = {}
        offered = [known.get(key) or Connector(key=key, name=key, category=None, active=True) for key in enabled]
        return sorted(offered, key=lambda c: (c.name.casefold(), c.key))

    def connectors(self) -> list[Connector]:
        """Every connector of the project (GET /connectors/meta), cached across workers and refreshed by one."""
        if self._connectors_ttl <= 0:
            return self._client.connectors()
        try:
            return self._cached_connectors()
        except StateUnavailable:
            return self._client.connectors()  # the cache is an optimisation; StackOne is the record

    def _cached_connectors(self) -> list[Connector]:
        entry = _connectors_entry(self._state.get(keys.CONNECTORS))
        if entry is not None and time.time() - entry["at"] < self._connectors_ttl:
            return _read_connectors(entry)
        # One request (across every worker) refreshes; the others keep the stale list or wait for the new one.
        if self._state.add(keys.CONNECTORS_REFRESHING, 1, ttl=self._client.timeout * 3):
            try:
                return self._refresh_connectors(entry)
            finally:
                self._state.delete(keys.CONNECTORS_REFRESHING)
        if entry is not None:
            return _read_connectors(entry)
        return self._wait_for_connectors()

    def _refresh_connectors(self, stale: dict | None) -> list[Connector]:
        try:
            connectors = self._client.connectors()
        except ServiceError:
            if stale is None:
                raise
            log.warning("connector list refresh failed; serving the previous list")
            return _read_connectors(stale)
        _quietly(self._state.set, keys.CONNECTORS, {"connectors": [asdict(c) for c in connectors],
                                                   "at": time.time()}, ttl=self._connectors_ttl * STALE_FACTOR)
        return connectors

    def _wait_for_connectors(self) -> list[Connector]:
        # Nothing cached yet and another request is fetching: wait for its answer, not a second call.
        def fetched() -> list[Connector] | None:
            entry = _connectors_entry(self._state.get(keys.CONNECTORS))
            if entry is not None:
                return _read_connectors(entry)
            if self._state.get(keys.CONNECTORS_REFRESHING) is None:
                return self._refresh_connectors(None)  # the other fetch failed; try ourselves
            return None

        answer = wait_until(fetched, time.monotonic() + self._client.timeout, WAIT_STEP)
        return answer if answer is not None else self._refresh_connectors(None)

    def forget_owner(self, owner_id: str) -> None:
        """Drop every cached account lookup for this owner, in every worker sharing the state."""
        self._state.set(keys.accounts_generation(owner_id), uuid.uuid4().hex, ttl=max(self._account_ttl, 1) * 2)


def _quietly(operation, *args, **kwargs):
    """A cache read or write that yields None when the shared state is down (the backend logs that, throttled)."""
    try:
        return operation(*args, **kwargs)
    except StateUnavailable:
        return None


def _connectors_entry(entry) -> dict | None:
    """The cached connector list if it is well-formed: {"connectors": [{key, name, category, active}], "at": t}."""
    if not isinstance(entry, dict) or not isinstance(entry.get("at"), (int, float)):
        return None
    items = entry.get("connectors")
    if not isinstance(items, list) or not all(isinstance(i, dict) and isinstance(i.get("key"), str) for i in items):
        return None
    return entry


def _read_connectors(entry: dict) -> list[Connector]:
    return [Connector(key=i["key"], name=str(i.get("name") or i["key"]),
                      category=i.get("category") if isinstance(i.get("category"), str) else None,
                      active=i.get("active") is True) for i in entry["connectors"]]
