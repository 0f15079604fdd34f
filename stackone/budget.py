"""StackOne's request budget for our API key (STACKONE_RATE_LIMIT), spent by every worker on every host.

StackOne allows one API key 1,000 requests a minute and answers 429 past it, for every tenant at once. Each call is
counted before it is sent: an interactive call over the budget is refused (503 upstream_busy) without asking
StackOne; background work (marked with StackOneClient.background()) spends at most STACKONE_BACKGROUND_SHARE of the
budget and stops while less than that share is left, so that interactive mints always find it. A 429 pauses every
caller for StackOne's Retry-After.

With REDIS_URL the count is one Lua script per call in Redis (one round trip: the pause, the count and the share
decided together), as a sliding window: the previous window's count weighted by how much of it still overlaps. On one
host without Redis each worker process counts its own 1/WEB_CONCURRENCY of the budget (a write transaction on
STATE_DIR's database per StackOne call would take the host's write lock on every mint); the 429 pause is still
shared, through the shared state. While Redis fails, the count falls back to that per-process share.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import redis
from limits import parse

from config import Settings
from errors import ServiceError
from state import SharedState, keys
from state.redis_state import Outage

log = logging.getLogger(__name__)

PAUSE_MAX = 300.0  # seconds: the longest pause a 429's Retry-After may impose on the fleet
# Without Redis, how often a process reads the host's shared pause (a database read per StackOne call was a tenth of
# a mint's cost over the floor): another worker's 429 reaches this one within a second, its own at once.
PAUSE_RECHECK = 1.0

# KEYS: the pause, this window's counts and the previous window's (hashes: all calls `n`, background calls `bg`;
# one hash tag). ARGV: the limit, the background share, the previous window's weight, 1 for background, the counts'
# lifetime (ms). Answers {1, 0, 0, 0, 0} when counted, {0, pause ms, 0, 0, 0} while paused, and
# {0, 0, previous, current, ceiling} when over (the counts it was refused on, for the wait).
TAKE = """
local paused = redis.call('pttl', KEYS[1])
if paused > 0 then return {0, paused, 0, 0, 0} end
local limit, share, weight = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cur, prev = redis.call('hmget', KEYS[2], 'n', 'bg'), redis.call('hmget', KEYS[3], 'n', 'bg')
local n, bg, pn, pbg = tonumber(cur[1] or 0), tonumber(cur[2] or 0), tonumber(prev[1] or 0), tonumber(prev[2] or 0)
local ceiling = limit
if ARGV[4] == '1' then
  ceiling = limit - share
  if pbg * weight + bg + 1 > share then return {0, 0, pbg, bg, share} end
end
if pn * weight + n + 1 > ceiling then return {0, 0, pn, n, ceiling} end
redis.call('hincrby', KEYS[2], 'n', 1)
if ARGV[4] == '1' then redis.call('hincrby', KEYS[2], 'bg', 1) end
redis.call('pexpire', KEYS[2], ARGV[5])
return {1, 0, 0, 0, 0}
"""


@dataclass(frozen=True)
class Rule:
    """The budget: `limit` calls per `period` seconds, of which background work may spend `share` calls."""

    limit: int
    period: float
    share: int

    @classmethod
    def parse(cls, rate: str, background_share: float) -> Rule:
        """From STACKONE_RATE_LIMIT ("1000/minute") and STACKONE_BACKGROUND_SHARE (0 < share <= 0.5)."""
        item = parse(rate)
        return cls(item.amount, float(item.get_expiry()), max(1, int(item.amount * background_share)))

    def per_process(self, processes: int) -> Rule:
        """This process's part of the budget when each of `processes` counts its own."""
        limit = max(1, self.limit // processes)
        return Rule(limit, self.period, max(1, min(self.share // processes, limit // 2)))


def window(now: float, period: float) -> tuple[int, float]:
    """The window `now` falls in, and how far into it (seconds)."""
    index = int(now // period)
    return index, now - index * period


def wait_until_below(prev: int, cur: int, ceiling: int, elapsed: float, period: float) -> float:
    """Seconds until the sliding count (prev weighted by the overlap, plus cur) leaves room for one more call."""
    if cur + 1 > ceiling:  # this window alone is full: into the next, where it becomes the weighted one
        return (period - elapsed) + period * max(0.0, 1 - (ceiling - 1) / cur)
    if prev <= 0:
        return 0.0
    return max(0.0, period * (1 - (ceiling - 1 - cur) / prev) - elapsed)


class Refused(Exception):
    """Not sent: the budget is spent or StackOne asked everyone to pause; `wait` is the seconds until it may be."""

    def __init__(self, wait: float, paused: bool) -> None:
        super().__init__(wait)
        self.wait = wait
        self.paused = paused


class LocalCount:
    """The same sliding count in this process only (one host without Redis, or while Redis fails)."""

    def __init__(self, rule: Rule) -> None:
        self.rule = rule
        self._counts: dict[int, list[int]] = {}  # window -> [all calls, background calls]

    def take(self, background: bool, now: float) -> None:
        """Count one call, or raise Refused."""
        rule = self.rule
        index, elapsed = window(now, rule.period)
        weight = 1 - elapsed / rule.period
        prev, cur = self._counts.get(index - 1, [0, 0]), self._counts.setdefault(index, [0, 0])
        for stale in [w for w in self._counts if w < index - 1]:
            del self._counts[stale]
        checks = [(prev[0], cur[0], rule.limit - rule.share if background else rule.limit)]
        if background:
            checks.insert(0, (prev[1], cur[1], rule.share))
        for before, now_count, ceiling in checks:
            if before * weight + now_count + 1 > ceiling:
                raise Refused(wait_until_below(before, now_count, ceiling, elapsed, rule.period), paused=False)
        cur[0] += 1
        cur[1] += background


class Budget:
    """Counts every StackOne call against the key's budget; `pause` after a 429."""

    def __init__(self, rule: Rule, state: SharedState, *, processes: int, redis_url: str | None = None,
                 prefix: str = "", timeout: float = 0.5, outage: Outage | None = None) -> None:
        self.rule = rule
        self._state = state
        self._local = LocalCount(rule.per_process(processes))
        self._outage = outage or Outage()
        self._paused_until = 0.0  # this process's own copy of the last pause it saw (no store asked meanwhile)
        self._pause_read_at = 0.0  # monotonic: when the host's shared pause is next read (one host, no Redis)
        self.monotonic = time.monotonic  # the clock of those reads (a test moves its own)
        self._redis = None
        if redis_url:
            self._client = redis.Redis.from_url(redis_url, socket_timeout=timeout, socket_connect_timeout=timeout)
            self._redis = self._client.register_script(TAKE)
            # One hash tag for every key the script touches, so that it runs on Redis Cluster too.
            self._prefix = prefix
            self._pause_key = keys.budget(prefix, "pause")

    def take(self, background: bool) -> None:
        """Count one call about to be sent; raise Refused (with the seconds to wait) when it may not be."""
        now = time.time()
        if now < self._paused_until:
            raise Refused(self._paused_until - now, paused=True)
        if self._redis is not None and not self._outage.ongoing():
            try:
                return self._take_shared(background, now)
            except redis.RedisError as exc:
                self._outage.failed(exc)
        self._check_shared_pause(now)
        self._local.take(background, now)

    def pause(self, seconds: float) -> None:
        """StackOne answered 429: no caller on any host asks it again for `seconds`."""
        seconds = min(max(seconds, 1.0), PAUSE_MAX)
        self._paused_until = max(self._paused_until, time.time() + seconds)
        log.warning("StackOne rate limited our API key: every caller pauses for %ds", seconds)
        try:
            if self._redis is not None and not self._outage.ongoing():
                self._client.set(self._pause_key, 1, px=int(seconds * 1000))
            else:
                self._state.set(keys.STACKONE_PAUSE, self._paused_until, ttl=seconds)
        except redis.RedisError as exc:
            self._outage.failed(exc)
        except ServiceError:
            pass  # the state is failing and has said so: this process pauses all the same

    def _take_shared(self, background: bool, now: float) -> None:
        rule = self.rule
        index, elapsed = window(now, rule.period)
        answer = self._redis(keys=[self._pause_key, keys.budget(self._prefix, index),
                                   keys.budget(self._prefix, index - 1)],
                             args=[rule.limit, rule.share, f"{1 - elapsed / rule.period:.5f}", int(background),
                                   int(rule.period * 2000)])
        self._outage.recovered()
        allowed, paused, prev, cur, ceiling = (int(x) for x in answer)
        if allowed:
            return
        if paused:
            self._paused_until = now + paused / 1000
            raise Refused(paused / 1000, paused=True)
        raise Refused(wait_until_below(prev, cur, ceiling, elapsed, rule.period), paused=False)

    def _check_shared_pause(self, now: float) -> None:
        tick = self.monotonic()
        if tick < self._pause_read_at:
            return
        self._pause_read_at = tick + PAUSE_RECHECK
        try:
            until = self._state.get(keys.STACKONE_PAUSE)
        except ServiceError:
            return
        if isinstance(until, (int, float)) and until > now:
            self._paused_until = until
            raise Refused(until - now, paused=True)


def open_budget(settings: Settings, state: SharedState) -> Budget | None:
    """The budget STACKONE_RATE_LIMIT sets (in Redis with REDIS_URL), or None when it is empty (not counted)."""
    if not settings.stackone.rate_limit:
        return None
    rule = Rule.parse(settings.stackone.rate_limit, settings.stackone.background_share)
    return Budget(rule, state, processes=settings.serving.web_concurrency, redis_url=settings.state.redis_url,
                  prefix=settings.state.redis_key_prefix, timeout=settings.state.redis_timeout,
                  outage=getattr(state, "outage", None))
