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

from limits import RateLimitItem, parse_many
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from config import Settings
from ratelimit.memory import MAX_TRACKED_OWNERS, SweptMemoryStorage
from state.keys import limits_prefix
from state.redis_state import Outage

log = logging.getLogger(__name__)

__all__ = ["OwnerLimit"]


class OwnerLimit:
    """Counts each owner's requests against OWNER_RATE_LIMIT (or `rules`), in Redis when configured, else in this
    process; `scope` keeps the counts of different budgets apart."""

    def __init__(self, settings: Settings, outage: Outage | None = None, *, rules: str | None = None,
                 scope: str = "owner") -> None:
        # Shared with the app's Redis state: a failure either of them saw spares the other its timeout.
        self.outage = outage or Outage()
        self.scope = scope
        self.rules: list[RateLimitItem] = parse_many(settings.serving.owner_rate_limit if rules is None else rules)
        # Also the fallback while Redis is down: counting per process rather than refusing everyone or no one.
        self._local = MovingWindowRateLimiter(SweptMemoryStorage(max_keys=MAX_TRACKED_OWNERS * len(self.rules)))
        self._shared = None
        shared = settings.state
        if shared.redis_url:
            self._shared = MovingWindowRateLimiter(storage_from_string(
                shared.redis_url, key_prefix=limits_prefix(shared.redis_key_prefix), wrap_exceptions=True,
                socket_timeout=shared.redis_timeout, socket_connect_timeout=shared.redis_timeout))

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
