"""A per-owner limit on the routes that call StackOne (limits: counted in Redis when REDIS_URL is set).

StackOne allows one API key 1,000 requests a minute, and every tenant shares the key: one owner must not spend it.
The key is the owner resolved from the login, so the limit comes after authentication (an anonymous caller gets
its 401, never a 429). Without Redis the counts are per process, which docs/operating.md says.

The limits library is used directly rather than through flask-limiter: a profile of the default configuration put
flask-limiter's per-request bookkeeping (resolving, filtering and exempting limits) at 14% of a worker's CPU, against
under 2% for the counting itself.
"""

from __future__ import annotations

import logging
import math
import time

from flask import Flask, request
from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from config import Settings
from errors import RateLimited, Unauthorized
from identity.owner import owner_key
from ratelimit.memory import MAX_TRACKED_OWNERS, SweptMemoryStorage
from services import current_owner
from state.redis_state import Outage

log = logging.getLogger(__name__)

# Every route that may call StackOne on an owner's behalf shares one budget per owner. The status route is not one:
# a page polls it every 2 s while the hub is open, so only its polls that reach StackOne are counted, against their
# own budget (OWNER_STATUS_RATE_LIMIT, polling.py).
OWNER_ROUTES = frozenset({
    "sessions.create_connect_session", "sessions.create_auth_link",
    "accounts.list_accounts", "accounts.disconnect_account", "providers.list_providers",
})
__all__ = ["OWNER_ROUTES", "OwnerLimit", "RateLimited", "init_owner_limit"]


class OwnerLimit:
    """Counts each owner's requests against OWNER_RATE_LIMIT (or `rules`), in Redis when configured, else in this
    process; `scope` keeps the counts of different budgets apart."""

    def __init__(self, settings: Settings, outage: Outage | None = None, *, rules: str | None = None,
                 scope: str = "owner") -> None:
        # Shared with the app's Redis state: a failure either of them saw spares the other its timeout.
        self.outage = outage or Outage()
        self.scope = scope
        self.rules: list[RateLimitItem] = parse_many(settings.owner_rate_limit if rules is None else rules)
        # Also the fallback while Redis is down: counting per process rather than refusing everyone or no one.
        self._local = MovingWindowRateLimiter(SweptMemoryStorage(max_keys=MAX_TRACKED_OWNERS * len(self.rules)))
        self._shared = None
        if settings.redis_url:
            self._shared = MovingWindowRateLimiter(storage_from_string(
                settings.redis_url, key_prefix=f"{settings.redis_key_prefix}:limits", wrap_exceptions=True,
                socket_timeout=settings.redis_timeout, socket_connect_timeout=settings.redis_timeout))

    def take(self, owner_key: str) -> tuple[RateLimitItem, int] | None:
        """Count one request for the owner: None when allowed, else the rule it broke and the seconds to wait."""
        # While Redis is failing (the state's failures count too), counted in this process without asking it.
        if self._shared is not None and not self.outage.ongoing():
            try:
                return self._count(self._shared, owner_key)
            except StorageError as exc:
                self.outage.failed(exc.storage_error)
        return self._count(self._local, owner_key)

    def _count(self, limiter: MovingWindowRateLimiter, owner_key: str) -> tuple[RateLimitItem, int] | None:
        for rule in self.rules:
            if not limiter.hit(rule, self.scope, owner_key):
                log.info("rate limited (%s %s)", self.scope, rule)
                reset_at = limiter.get_window_stats(rule, self.scope, owner_key).reset_time
                window = rule.get_expiry()
                return rule, max(1, min(math.ceil(reset_at - time.time()), window))  # never more than the window
        return None


def init_owner_limit(app: Flask, settings: Settings, outage: Outage | None = None) -> OwnerLimit | None:
    """Apply the shared per-owner limit (OWNER_RATE_LIMIT; empty: no limit) to the owner routes, after login."""
    if not settings.owner_rate_limit:
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
