"""Choose the owner resolver that OWNER_AUTH names."""

from __future__ import annotations

from typing import Protocol

from config import Settings
from identity.owner import Owner


class OwnerResolver(Protocol):
    """Anything that turns request headers and cookies into an Owner or raises Unauthorized."""

    def resolve(self, headers, cookies) -> Owner: ...


def build_resolver(settings: Settings) -> OwnerResolver:
    """Return the resolver for settings.owner_auth."""
    if settings.owner_auth == "jwt":
        from identity.jwt_bearer import JWTOwnerResolver

        return JWTOwnerResolver(settings)
    from identity.legacy_session import FlaskSessionOwnerResolver

    return FlaskSessionOwnerResolver(settings)
