"""The fleet backend: shared state in Redis (REDIS_URL), JSON values under a key prefix, every key with a TTL."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis

from errors import StateUnavailable

log = logging.getLogger(__name__)

# Compare-and-act on one key, as redis-py's redis/lock.py releases and extends its Lock: the holder's token is
# checked in the same step, so a lapsed holder cannot delete or extend the next holder's lock.
DELETE_IF = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""
RENEW_IF = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return 0
"""

# Keys that are set "until replaced" still expire: nothing this service writes is meant to outlive a month.
LONGEST_TTL = 30 * 24 * 3600
WARN_EVERY = 30.0  # seconds between "Redis is unavailable" lines, per process
RETRY_AFTER = 5.0  # seconds after a Redis failure during which this process does not ask Redis again
_last_warning = 0.0  # shared by the state and the rate limit: one outage, one line per interval


class Outage:
    """An app's view of Redis: after one failure, nothing asks it again for RETRY_AFTER seconds.

    A hung Redis (it accepts, never answers) costs a full REDIS_TIMEOUT per question: without this a mint asked up to
    three times (the limit, the account cache, the session record). One per app, shared by its state and its rate
    limit, so one timeout per interval is the whole cost, and the first question after it finds out if Redis is back.
    """

    def __init__(self, retry_after: float = RETRY_AFTER) -> None:
        self.retry_after = retry_after
        self._until = 0.0

    def ongoing(self) -> bool:
        """True while a recent failure says not to ask Redis."""
        return time.monotonic() < self._until

    def failed(self, exc: Exception) -> None:
        """Redis failed just now: stop asking for a while, and say so (throttled)."""
        self._until = time.monotonic() + self.retry_after
        warn_unavailable(exc)

    def recovered(self) -> None:
        """An answer came: ask again at once."""
        self._until = 0.0



class RecentFailure(redis.ConnectionError):
    """Not asked: Redis failed less than RETRY_AFTER seconds ago (as this app saw it)."""


def warn_unavailable(exc: Exception) -> None:
    """Say that Redis is unavailable and what that means, at most once per WARN_EVERY in this process."""
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARN_EVERY:
        # Once per interval, not once per request: an outage must not flood the log.
        _last_warning = now
        log.warning("Redis is unavailable (%s); caches bypassed, webhooks answered 503, rate limit counted per "
                    "process", type(exc).__name__)


class RedisState:
    """Implements state.SharedState on Redis; a Redis failure raises StateUnavailable (callers decide to degrade)."""

    def __init__(self, url: str, *, prefix: str, timeout: float, outage: Outage | None = None) -> None:
        self.outage = outage or Outage()
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                           health_check_interval=15)
        self._prefix = prefix.rstrip(":") + ":"
        self._delete_if = self._redis.register_script(DELETE_IF)
        self._renew_if = self._redis.register_script(RENEW_IF)

    @property
    def client(self) -> redis.Redis:
        """The app's Redis client (its pool), for stores that use Redis's own structures (the connection ledger)."""
        return self._redis

    @property
    def prefix(self) -> str:
        """Every key's prefix (REDIS_KEY_PREFIX and a colon)."""
        return self._prefix

    def _key(self, key: str) -> str:
        return self._prefix + key

    def unavailable(self, exc: Exception) -> StateUnavailable:
        """The error to raise for a Redis failure, counted by the app's outage view (unless it was not asked)."""
        return self._unavailable(exc)

    def _unavailable(self, exc: Exception) -> StateUnavailable:
        if not isinstance(exc, RecentFailure):
            self.outage.failed(exc)
        return StateUnavailable("Shared state (Redis) is unavailable; try again shortly", headers={"Retry-After": "5"})

    def _ask(self, command: str, *args, **kwargs) -> Any:
        # One question to Redis, unless this process saw it fail moments ago (then refused without waiting).
        if self.outage.ongoing():
            raise RecentFailure("Redis failed moments ago")
        return getattr(self._redis, command)(*args, **kwargs)

    def get(self, key: str) -> Any | None:
        """The value, or None when absent or not JSON."""
        try:
            raw = self._ask("get", self._key(key))
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:
            return None  # never a pickle, never executed: an unreadable value is a miss

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store value (as JSON) for ttl seconds, or until replaced (capped at a month)."""
        try:
            self._ask("set", self._key(key), _dump(value), ex=_seconds(ttl))
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None

    def add(self, key: str, value: Any, ttl: float) -> bool:
        """SET NX PX: one winner across every worker on every host."""
        try:
            return bool(self._ask("set", self._key(key), _dump(value), px=_milliseconds(ttl), nx=True))
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None

    def delete(self, key: str) -> None:
        """Remove the key if present."""
        try:
            self._ask("delete", self._key(key))
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None

    def delete_if(self, key: str, value: Any) -> bool:
        """Compare-and-delete in one Lua script: True if the key held `value` and is now gone."""
        try:
            if self.outage.ongoing():
                raise RecentFailure("Redis failed moments ago")
            return bool(self._delete_if(keys=[self._key(key)], args=[_dump(value)]))
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None

    def renew_if(self, key: str, value: Any, ttl: float) -> bool:
        """Compare-and-PEXPIRE in one Lua script: True if the key held `value` and now lives `ttl` more seconds."""
        try:
            # Asked even within moments of a failure: a holder's lease must not lapse because another question
            # failed, and the renewer runs beside the request, so its wait costs no caller.
            return bool(self._renew_if(keys=[self._key(key)], args=[_dump(value), _milliseconds(ttl)]))
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None

    def ping(self) -> str | None:
        """None when Redis answers, else the reason (for readiness). Always asks: it is how recovery is seen."""
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            self._unavailable(exc)
            return f"Redis is unreachable ({type(exc).__name__})"
        self.outage.recovered()
        return None


def _dump(value: Any) -> str:
    """The stored form of a value, one spelling for every write and comparison (delete_if compares these bytes)."""
    return json.dumps(value, separators=(",", ":"))


def _milliseconds(ttl: float) -> int:
    return max(1, min(int(ttl * 1000), LONGEST_TTL * 1000))


def _seconds(ttl: float | None) -> int:
    return max(1, min(int(ttl if ttl is not None else LONGEST_TTL), LONGEST_TTL))
