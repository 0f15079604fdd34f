"""The fleet backend: shared state in Redis (REDIS_URL), JSON values under a key prefix, every key with a TTL."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import redis

from errors import StateUnavailable

log = logging.getLogger(__name__)

# Keys that are set "until replaced" still expire: nothing this service writes is meant to outlive a month.
LONGEST_TTL = 30 * 24 * 3600
WARN_EVERY = 30.0  # seconds between "Redis is unavailable" lines, per process
_last_warning = 0.0  # shared by the state and the rate limit: one outage, one line per interval


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

    def __init__(self, url: str, *, prefix: str, timeout: float) -> None:
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                                           health_check_interval=15)
        self._prefix = prefix.rstrip(":") + ":"

    def _key(self, key: str) -> str:
        return self._prefix + key

    def _unavailable(self, exc: Exception) -> StateUnavailable:
        warn_unavailable(exc)
        return StateUnavailable("Shared state (Redis) is unavailable; try again shortly", headers={"Retry-After": "5"})

    def get(self, key: str) -> Any | None:
        """The value, or None when absent or not JSON."""
        try:
            raw = self._redis.get(self._key(key))
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
            self._redis.set(self._key(key), json.dumps(value, separators=(",", ":")), ex=_seconds(ttl))
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None

    def add(self, key: str, value: Any, ttl: float) -> bool:
        """SET NX EX: one winner across every worker on every host."""
        try:
            return bool(self._redis.set(self._key(key), json.dumps(value), ex=_seconds(ttl), nx=True))
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None

    def delete(self, key: str) -> None:
        """Remove the key if present."""
        try:
            self._redis.delete(self._key(key))
        except redis.RedisError as exc:
            raise self._unavailable(exc) from None

    def ping(self) -> str | None:
        """None when Redis answers, else the reason (for readiness)."""
        try:
            self._redis.ping()
        except redis.RedisError as exc:
            self._unavailable(exc)
            return f"Redis is unreachable ({type(exc).__name__})"
        return None


def _seconds(ttl: float | None) -> int:
    return max(1, min(int(ttl if ttl is not None else LONGEST_TTL), LONGEST_TTL))
