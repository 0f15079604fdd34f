"""The policy's vocabulary: what was asked, what was decided, and how accounts are looked up."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from domain.accounts import Account


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
