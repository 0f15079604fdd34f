"""The connection ledger on Redis: a hash per account, a set per owner, a hash per queued event, a sorted set per
kind of due work, each change of several keys one Lua script. Every key shares the hash tag {conn}, so the same
scripts run on Redis Cluster (all of it in one slot)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import redis

from connections.ledger import KEEP_DELETED, KEEP_QUEUED, KINDS, NEW, REMIND, RETRY, Claim, Queued, encode
from state import keys
from state.redis_state import RecentFailure, RedisState

# KEYS: record, new owner's set, previous owner's set, known set, due:new, due:remind, then one per event.
# ARGV: expected revision, record JSON, deleted ("1"/"0"), account id, reminder time or "", now, keep seconds,
# then each event's id and JSON.
WRITE = """
local current = tonumber(redis.call('HGET', KEYS[1], 'v') or '0')
if current ~= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'r', ARGV[2], 'v', current + 1)
if KEYS[3] ~= KEYS[2] then redis.call('SREM', KEYS[3], ARGV[4]) end
if ARGV[3] == '1' then
  redis.call('EXPIRE', KEYS[1], ARGV[7])
  redis.call('SREM', KEYS[2], ARGV[4])
  redis.call('SREM', KEYS[4], ARGV[4])
else
  redis.call('PERSIST', KEYS[1])
  redis.call('SADD', KEYS[2], ARGV[4])
  redis.call('SADD', KEYS[4], ARGV[4])
end
if ARGV[5] == '' or ARGV[3] == '1' then
  redis.call('ZREM', KEYS[6], ARGV[4])
else
  redis.call('ZADD', KEYS[6], ARGV[5], ARGV[4])
end
for i = 7, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('HSET', KEYS[i], 'e', ARGV[7 + (i - 6) * 2], 'n', 0)
    redis.call('ZADD', KEYS[5], 'NX', ARGV[6], ARGV[6 + (i - 6) * 2])
  end
end
return 1
"""

# KEYS: due:new, then per event its hash and its once mark. ARGV: now, seconds to keep the mark, then each event's id
# and JSON. Answers how many were queued.
QUEUE_ONCE = """
local queued = 0
for i = 2, #KEYS, 2 do
  local n = i / 2
  if redis.call('SET', KEYS[i + 1], 1, 'NX', 'EX', ARGV[2]) and redis.call('EXISTS', KEYS[i]) == 0 then
    redis.call('HSET', KEYS[i], 'e', ARGV[2 + n * 2], 'n', 0)
    redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[1 + n * 2])
    queued = queued + 1
  end
end
return queued
"""

# KEYS: one due set per kind asked. ARGV: now, lease end, then each kind's limit. Returns kind index, member pairs.
CLAIM = """
local out = {}
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[2 + i])
  if limit > 0 then
    for _, member in ipairs(redis.call('ZRANGEBYSCORE', key, '-inf', ARGV[1], 'LIMIT', 0, limit)) do
      redis.call('ZADD', key, ARGV[2], member)
      out[#out + 1] = i
      out[#out + 1] = member
    end
  end
end
return out
"""

# KEYS: the claim's due set, due:retry, the event. ARGV: event id, lease end, next time, error.
RETRY_SCRIPT = """
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not held or tonumber(held) ~= tonumber(ARGV[2]) or redis.call('EXISTS', KEYS[3]) == 0 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HINCRBY', KEYS[3], 'n', 1)
redis.call('HSET', KEYS[3], 'err', ARGV[4])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return 1
"""


class RedisLedger:
    """Implements connections.ledger.Ledger on the app's Redis (its client, key prefix and outage view)."""

    def __init__(self, state: RedisState) -> None:
        self._state = state
        self._redis = state.client
        self._write = self._redis.register_script(WRITE)
        self._claim = self._redis.register_script(CLAIM)
        self._retry = self._redis.register_script(RETRY_SCRIPT)
        self._queue_once = self._redis.register_script(QUEUE_ONCE)

    def _key(self, *parts: str) -> str:
        return keys.ledger(self._state.prefix, *parts)

    def _owner_set(self, record: dict[str, Any] | None) -> str:
        owner = (record or {}).get("owner_id")
        return self._key("owner", keys.owner_key(owner) if owner else "-")

    def _run(self, call, *args, **kwargs):
        if self._state.outage.ongoing():
            raise self._state.unavailable(RecentFailure("Redis failed moments ago"))
        try:
            return call(*args, **kwargs)
        except redis.RedisError as exc:
            raise self._state.unavailable(exc) from None

    def read(self, account_id: str) -> tuple[dict[str, Any] | None, int]:
        """As Ledger.read: one HMGET."""
        raw, revision = self._run(self._redis.hmget, self._key("rec", account_id), "r", "v")
        return (json.loads(raw) if raw else None), int(revision or 0)

    def write(self, account_id: str, revision: int, record: dict[str, Any], *, events: Iterable[dict[str, Any]] = (),
              reminder_at: float | None = None, now: float) -> bool:
        """As Ledger.write: one script."""
        events = list(events)
        previous, _ = self.read(account_id) if revision else (None, 0)
        keys = [self._key("rec", account_id), self._owner_set(record), self._owner_set(previous or record),
                self._key("known"), self._key("due", NEW), self._key("due", REMIND),
                *(self._key("ev", e["id"]) for e in events)]
        args = [revision, encode(record), "1" if record.get("deleted") else "0", account_id,
                "" if reminder_at is None else repr(float(reminder_at)), repr(float(now)), KEEP_DELETED]
        for event in events:
            args += [event["id"], encode(event)]
        return bool(self._run(self._write, keys=keys, args=args))

    def queue_once(self, events: Iterable[dict[str, Any]], *, now: float) -> int:
        """As Ledger.queue_once: one script (a mark per event, `once:<id>`, kept KEEP_QUEUED)."""
        events = list(events)
        if not events:
            return 0
        keys, args = [self._key("due", NEW)], [repr(float(now)), KEEP_QUEUED]
        for event in events:
            keys += [self._key("ev", event["id"]), self._key("once", event["id"])]
            args += [event["id"], encode(event)]
        return int(self._run(self._queue_once, keys=keys, args=args))

    def owner_accounts(self, owner_id: str) -> list[str]:
        """As Ledger.owner_accounts: one SMEMBERS."""
        members = self._run(self._redis.smembers, self._key("owner", keys.owner_key(owner_id)))
        return sorted(m.decode() for m in members)

    def known_accounts(self) -> Iterator[str]:
        """As Ledger.known_accounts: SSCAN, a page at a time."""
        cursor = 0
        while True:
            cursor, page = self._run(self._redis.sscan, self._key("known"), cursor, count=500)
            yield from (m.decode() for m in page)
            if not cursor:
                return

    def claim(self, now: float, lease: float, limits: dict[str, int]) -> list[Claim]:
        """As Ledger.claim: one script, whatever the number of entries."""
        kinds = [k for k in KINDS if limits.get(k, 0) > 0]
        if not kinds:
            return []
        until = now + lease
        out = self._run(self._claim, keys=[self._key("due", k) for k in kinds],
                        args=[repr(float(now)), repr(float(until)), *(limits[k] for k in kinds)])
        return [Claim(kinds[int(out[i]) - 1], out[i + 1].decode(), until) for i in range(0, len(out), 2)]

    def queued(self, event_id: str) -> Queued | None:
        """As Ledger.queued: one HMGET."""
        body, attempts, error = self._run(self._redis.hmget, self._key("ev", event_id), "e", "n", "err")
        if not body:
            return None
        return Queued(json.loads(body), int(attempts or 0), error.decode() if error else None)

    def finish(self, claim: Claim) -> None:
        """As Ledger.finish: one transaction."""
        pipe = self._redis.pipeline(transaction=True)
        if claim.kind in (NEW, RETRY):
            pipe.delete(self._key("ev", claim.id))
            pipe.zrem(self._key("due", NEW), claim.id)
            pipe.zrem(self._key("due", RETRY), claim.id)
        else:
            pipe.zrem(self._key("due", claim.kind), claim.id)
        self._run(pipe.execute)

    def retry(self, claim: Claim, at: float, error: str) -> bool:
        """As Ledger.retry: one script."""
        return bool(self._run(self._retry, keys=[self._key("due", claim.kind), self._key("due", RETRY),
                                     self._key("ev", claim.id)],
                  args=[claim.id, repr(float(claim.until)), repr(float(at)), error[:200]]))

    def schedule(self, kind: str, entry_id: str, at: float) -> None:
        """As Ledger.schedule: one ZADD."""
        self._run(self._redis.zadd, self._key("due", kind), {entry_id: at})

    def ensure(self, kind: str, entry_id: str, at: float) -> bool:
        """As Ledger.ensure: one ZADD NX."""
        return bool(self._run(self._redis.zadd, self._key("due", kind), {entry_id: at}, nx=True))

    def backlog(self) -> int:
        """As Ledger.backlog: two ZCARDs in one round trip."""
        pipe = self._redis.pipeline(transaction=False)
        pipe.zcard(self._key("due", NEW))
        pipe.zcard(self._key("due", RETRY))
        return sum(self._run(pipe.execute))

    def queued_ids(self, limit: int = 100) -> list[str]:
        """As Ledger.queued_ids: two ZRANGEs."""
        found = [m.decode() for m in self._run(self._redis.zrange, self._key("due", NEW), 0, limit - 1)]
        if len(found) < limit:
            found += [m.decode() for m in self._run(self._redis.zrange, self._key("due", RETRY), 0,
                                                     limit - len(found) - 1)]
        return found
