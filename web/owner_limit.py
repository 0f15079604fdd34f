"""The per-owner limit (OWNER_RATE_LIMIT) applied to the routes that may call StackOne, after login."""

from __future__ import annotations

from flask import Flask, request

from config import Settings
from errors import RateLimited, Unauthorized
from ratelimit import OwnerLimit
from state.keys import owner_key
from state.redis_state import Outage
from web.login import current_owner

# Every route that may call StackOne on an owner's behalf shares one budget per owner. The status route is not one:
# a page polls it every 2 s while the hub is open, so only its polls that reach StackOne are counted, against their
# own budget (OWNER_STATUS_RATE_LIMIT, sessions/status.py).
OWNER_ROUTES = frozenset({
    "sessions.create_connect_session", "sessions.create_auth_link",
    "accounts.list_accounts", "accounts.disconnect_account", "providers.list_providers",
})


def init_owner_limit(app: Flask, settings: Settings, outage: Outage | None = None) -> OwnerLimit | None:
    """Apply the shared per-owner limit (OWNER_RATE_LIMIT; empty: no limit) to the owner routes, after login."""
    if not settings.serving.owner_rate_limit:
        return None
    limit = OwnerLimit(settings, outage)

    # Registered after the other hooks: the deadline and the origin check come first.
    @app.before_request
    def _limit_owner():
        if request.endpoint not in OWNER_ROUTES or request.method == "OPTIONS":
            return  # a CORS preflight is answered without calling StackOne: not counted
        try:
            owner = current_owner()
        except Unauthorized:
            return  # not counted: the view answers 401
        refused = limit.take(owner_key(owner.id))
        if refused is not None:
            rule, wait = refused
            raise RateLimited(f"Your organisation has made too many requests ({rule}); try again in {wait} s",
                              headers={"Retry-After": str(wait)})

    return limit
