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
        )

    def as_dict(self) -> dict[str, str | None]:
        """A JSON-safe copy for the shared cache (Account(**d) reads it back)."""
        return asdict(self)


@dataclass(frozen=True)
class ConnectSession:
    """The part of StackOne's connect-session answer the service uses."""

    token: str
    auth_link_url: str | None = None
