"""Choose the owner resolver that OWNER_AUTH names."""

from __future__ import annotations

from typing import Protocol

from config import Settings
from errors import Unauthorized
from identity.owner import Owner


class OwnerResolver(Protocol):
    """Anything that turns request headers and cookies into an Owner or raises Unauthorized."""

    def resolve(self, headers, cookies) -> Owner: ...


class NoLogin:
    """For an app built without OWNER_AUTH (the operator's command line): nobody can log in over HTTP."""

    def resolve(self, headers, cookies) -> Owner:
        """Always refuse."""
        raise Unauthorized("This instance has no login configured (OWNER_AUTH is unset)")


def build_resolver(settings: Settings) -> OwnerResolver:
    """Return the resolver for settings.login.owner_auth."""
    login = settings.login
    if not login.owner_auth:
        return NoLogin()
    if login.owner_auth == "jwt":
        from identity.jwt_bearer import JWTOwnerResolver

        return JWTOwnerResolver(login)
    if login.legacy_session_backend == "redis":
        from identity.server_session import FlaskSessionRedisResolver

        return FlaskSessionRedisResolver(login, settings.state.redis_timeout)
    from identity.legacy_session import FlaskSessionOwnerResolver

    return FlaskSessionOwnerResolver(login)
