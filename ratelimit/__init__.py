"""A per-owner limit on the routes that call StackOne (flask-limiter; counted in Redis when REDIS_URL is set).

StackOne allows one API key 1,000 requests a minute, and every tenant shares the key: one owner must not spend it.
The key is the owner resolved from the login, so the limit comes after authentication (an anonymous caller gets
its 401, never a 429). Without Redis the counts are per process, which the README says.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.errors import RateLimitExceeded

from config import Settings
from errors import ServiceError, Unauthorized
from problems import problem
from ratelimit.memory import SCHEME as SWEPT_MEMORY

log = logging.getLogger(__name__)

# Every route that may call StackOne on an owner's behalf shares one budget per owner.
OWNER_ROUTES = (
    "sessions.create_connect_session", "sessions.create_auth_link", "sessions.connect_session_status",
    "accounts.list_accounts", "accounts.disconnect_account", "providers.list_providers",
)


class RateLimited(ServiceError):
    """The owner has used its share of StackOne calls for now."""

    status = 429
    code = "rate_limited"
    title = "Too many requests"


def _owner_key() -> str:
    from services import current_owner
    from stackone.directory import owner_key

    return "owner:" + owner_key(current_owner().id)


def _anonymous() -> bool:
    from services import current_owner

    try:
        current_owner()
    except Unauthorized:
        return True  # not counted: the view answers 401
    return False


def init_owner_limit(app: Flask, settings: Settings) -> Limiter | None:
    """Wrap the owner routes in the shared per-owner limit (OWNER_RATE_LIMIT; empty: no limit)."""
    if not settings.owner_rate_limit:
        return None
    storage_options = {}
    if settings.redis_url:
        storage_options = {"key_prefix": f"{settings.redis_key_prefix}:limits",
                           "socket_timeout": settings.redis_timeout, "socket_connect_timeout": settings.redis_timeout}
    limiter = Limiter(
        key_func=_owner_key, app=app, storage_uri=settings.redis_url or f"{SWEPT_MEMORY}://",
        storage_options=storage_options, strategy="moving-window",
        # Redis down: count per process meanwhile (flask-limiter logs the switch once) rather than refuse.
        in_memory_fallback_enabled=True, swallow_errors=True,
    )
    shared = limiter.shared_limit(settings.owner_rate_limit, scope="owner", exempt_when=_anonymous)
    for endpoint in OWNER_ROUTES:
        app.view_functions[endpoint] = shared(app.view_functions[endpoint])

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(exc: RateLimitExceeded):
        current = limiter.current_limit
        window = exc.limit.limit.get_expiry()
        wait = math.ceil(current.reset_at - time.time()) if current else window
        wait = max(1, min(wait, window))  # never more than the limit's own window
        log.info("rate limited (%s)", exc.limit.limit)
        refusal = RateLimited(f"Your organisation has made too many requests ({exc.limit.limit}); "
                              f"try again in {wait} s")
        return problem(refusal.status, refusal.code, refusal.title, refusal.detail, {"Retry-After": str(wait)})

    return limiter
