"""StackOne's accounts and sessions as values; credentials and setup information are dropped at parse time."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Account:
    """A linked account as StackOne describes it, without its secrets."""

    id: str
    provider: str | None
    origin_owner_id: str | None
    status: str | None = None
    label: str | None = None
    provider_name: str | None = None
    origin_username: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    type: str | None = None  # production or test
    origin_owner_name: str | None = None
    # StackOne's status_reasons, reduced to {code, description, timestamp} strings.
    status_reasons: tuple[dict[str, str | None], ...] = ()

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> Account:
        """Keep only the fields we pass on; `credentials` and `setup_information` never leave this line."""

        def text(key: str) -> str | None:
            value = item.get(key)
            return None if value is None else str(value)

        return cls(
            id=str(item["id"]),
            provider=text("provider"),
            origin_owner_id=text("origin_owner_id"),
            status=text("status"),
            label=text("label"),
            provider_name=text("provider_name"),
            origin_username=text("origin_username"),
            created_at=text("created_at"),
            updated_at=text("updated_at"),
            type=text("type"),
            origin_owner_name=text("origin_owner_name"),
            status_reasons=_reasons(item.get("status_reasons")),
        )

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe copy for the shared cache (from_dict reads it back)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Account:
        """The account as as_dict wrote it."""
        return cls(**{**data, "status_reasons": _reasons(data.get("status_reasons"))})

    @property
    def archived(self) -> bool:
        """True when StackOne has archived the account (any case): it is listed, but counts for nothing."""
        return (self.status or "").lower() == "archived"

    @property
    def needs_reconnect(self) -> bool:
        """True when the user must act (re-enter credentials) for the account to work again."""
        return (self.status or "").lower() in RECONNECT_STATUSES


# StackOne's signed account webhooks, the only events acted on (any other is acknowledged and counted as "other").
ACCOUNT_CREATED, ACCOUNT_UPDATED, ACCOUNT_DELETED = "account.created", "account.updated", "account.deleted"
ACCOUNT_EVENTS = frozenset({ACCOUNT_CREATED, ACCOUNT_UPDATED, ACCOUNT_DELETED})

# The statuses in which the user must act for the account to work again: the account needs a reconnect, and the
# connection ledger calls it broken (connection.broken, reminders) until it leaves them.
RECONNECT_STATUSES = frozenset({"error", "expired", "inactive", "suspended"})


def _reasons(value: Any) -> tuple[dict[str, str | None], ...]:
    """Only code, description and timestamp of each reason, as short strings; nothing else StackOne sends."""
    if not isinstance(value, list):
        return ()
    reasons = []
    for reason in value[:20]:
        if isinstance(reason, dict):
            reasons.append({key: None if reason.get(key) is None else str(reason.get(key))[:500]
                            for key in ("code", "description", "timestamp")})
    return tuple(reasons)


@dataclass(frozen=True)
class ConnectSession:
    """The part of StackOne's connect-session answer the service uses."""

    token: str
    auth_link_url: str | None = None
    id: str | None = None  # StackOne's id of the session (for the audit trail; not a secret)


@dataclass(frozen=True)
class Connector:
    """A provider the StackOne project knows: its key, display name, category and whether it is enabled."""

    key: str
    name: str
    category: str | None
    active: bool

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> Connector | None:
        """One `/connectors/meta` entry; None when it names no provider."""
        key = item.get("provider")
        if not isinstance(key, str) or not key.strip():
            return None
        name, category = item.get("provider_name"), item.get("category")
        return cls(key=key.strip().lower(), name=name if isinstance(name, str) and name else key,
                   category=category if isinstance(category, str) else None, active=item.get("active") is True)


# What StackOne's hub reports for the latest attempt to connect through a session.
ATTEMPT_STATUSES = ("pending", "authenticated", "error", "cancelled", "expired")


@dataclass(frozen=True)
class SessionDetails:
    """StackOne's answer to POST /connect_sessions/authenticate, less anything the caller must not see."""

    origin_owner_id: str | None
    provider: str | None
    account_id: str | None
    created_at: str | None
    expires_in: int | None
    attempt_status: str | None
    attempt_account_id: str | None
    # False when StackOne's answer has no latest_connection_attempt at all (it is in StackOne's newest documents and
    # in no SDK): the outcome must then be worked out from the owner's accounts.
    reports_attempts: bool = True
    origin_username: str | None = None  # whom it was minted for: a colleague's new account is not its outcome

    @classmethod
    def from_api(cls, item: dict[str, Any]) -> SessionDetails:
        """Read the owner, provider, account, lifetime and latest connection attempt; ignore the rest."""

        def text(source: dict[str, Any], key: str) -> str | None:
            value = source.get(key)
            return None if value is None or isinstance(value, (dict, list, bool)) else str(value)

        reported = item.get("latest_connection_attempt")
        attempt = reported if isinstance(reported, dict) else {}
        expires_in = item.get("expires_in")
        return cls(
            origin_owner_id=text(item, "origin_owner_id"),
            provider=text(item, "provider"),
            account_id=text(item, "account_id"),
            created_at=text(item, "created_at"),
            expires_in=expires_in if isinstance(expires_in, int) and not isinstance(expires_in, bool) else None,
            attempt_status=text(attempt, "status"),
            attempt_account_id=text(attempt, "account_secure_id"),
            reports_attempts="latest_connection_attempt" in item,
            origin_username=text(item, "origin_username"),
        )
