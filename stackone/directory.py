"""The policy's view of StackOne accounts: owner-checked, archived left out, cached across workers."""

from __future__ import annotations

import hashlib
import uuid

from cachelib import BaseCache

from stackone.client import StackOneClient
from stackone.models import Account


def _owner_key(owner_id: str) -> str:
    return hashlib.sha256(owner_id.encode()).hexdigest()


class AccountDirectory:
    """Implements policy.AccountLookup on top of the StackOne client and the shared cache."""

    def __init__(
        self,
        client: StackOneClient,
        cache: BaseCache,
        *,
        account_ttl: int,
        connectors_ttl: int,
        enabled_providers: frozenset[str] | None = None,
    ) -> None:
        self._client = client
        self._cache = cache
        self._account_ttl = account_ttl
        self._connectors_ttl = connectors_ttl
        self._enabled = enabled_providers

    def owner_accounts(self, owner_id: str, provider: str | None = None, *, include_archived: bool = False
                       ) -> list[Account]:
        """The owner's accounts (archived left out unless asked), only those whose origin_owner_id is the owner's."""
        key = None
        if self._account_ttl > 0:
            # The owner's generation changes on every account webhook, which orphans older entries.
            generation = self._cache.get(f"accounts-gen:{_owner_key(owner_id)}") or "0"
            key = f"accounts:{_owner_key(owner_id)}:{generation}:{provider or '*'}"
        accounts = self._cache.get(key) if key else None
        if accounts is None:
            accounts = [
                a
                for a in self._client.list_accounts(owner_id, provider)
                # Trust nothing StackOne returns beyond what we asked: filter owner and provider ourselves.
                if a.origin_owner_id == owner_id and (provider is None or a.provider == provider)
            ]
            if key:
                self._cache.set(key, accounts, timeout=self._account_ttl)
        return accounts if include_archived else [a for a in accounts if a.status != "archived"]

    def account(self, account_id: str) -> Account | None:
        """One account by id (not cached: ownership is checked against StackOne's current answer)."""
        return self._client.get_account(account_id)

    def enabled_providers(self) -> frozenset[str]:
        """STACKONE_ENABLED_PROVIDERS when set, else the project's active connectors, cached."""
        if self._enabled is not None:
            return self._enabled
        cached = self._cache.get("connectors:active")
        if cached is not None:
            return cached
        active = self._client.active_providers()
        if self._connectors_ttl > 0:
            self._cache.set("connectors:active", active, timeout=self._connectors_ttl)
        return active

    def forget_owner(self, owner_id: str) -> None:
        """Drop every cached account lookup for this owner, in every worker sharing the cache."""
        self._cache.set(f"accounts-gen:{_owner_key(owner_id)}", uuid.uuid4().hex, timeout=0)
