"""The policy's vocabulary: what was asked, what was decided, and how accounts are looked up."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.accounts import Account

# The standard connect session (30 min default) and the forwarded auth link (5 days, at most 7): the lifetimes a
# request may ask for (schemas/ validates them; the status route counts a session's end from the default).
SESSION_EXPIRY = {"default": 1800, "min": 60, "max": 86400}
AUTH_LINK_EXPIRY = {"default": 432000, "min": 60, "max": 7 * 86400}


@dataclass(frozen=True)
class SessionRequest:
    """A validated request for a connect session or auth link; the owner is not part of it."""

    expires_in: int
    origin_username: str | None = None
    provider: str | None = None
    categories: tuple[str, ...] = ()
    label: str | None = None
    account_id: str | None = None
    multiple: bool = False
    kind: str = "session"  # "session" (the embedded hub's token) or "link" (an Auth Link sent to a person)


class Action(StrEnum):
    """What the hub will do with the session: StackOne's create / update / multiple."""

    CREATE = "create"
    UPDATE = "update"
    MULTIPLE = "multiple"


@dataclass(frozen=True)
class Decision:
    """The policy's answer: the action and exactly which account and provider the session is for."""

    action: Action
    provider: str | None
    account_id: str | None = None


class AccountLookup(Protocol):
    """How the policy sees StackOne: the owner's accounts, one account, and the enabled providers."""

    def owner_accounts(self, owner_id: str, provider: str | None) -> list[Account]:
        """The owner's non-archived accounts (for one provider when given), owner-checked."""
        ...

    def account(self, account_id: str) -> Account | None:
        """One account by id, or None when StackOne does not know it."""
        ...

    def enabled_providers(self) -> frozenset[str]:
        """Provider keys enabled on the StackOne project."""
        ...
