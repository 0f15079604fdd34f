"""Links on Redis, for a fleet: a hash per link, a handle key, a sorted set per owner, one sorted set of reminders.

Keys (after REDIS_KEY_PREFIX; every one shares the hash tag {links}, so the scripts run on Redis Cluster):
- `{links}:link:<digest>`: hash, the link: `rec` (its fixed fields as JSON), `h` handle, `o` owner key (a SHA-256 of
  the owner id, as identity.owner_key), `c` created, `x` expires, `n` clicks, `fc`/`lc` first and last click,
  `done`/`acct` completed at and by which account, `wd` withdrawn at. Expires HORIZON after the link was made.
- `{links}:handle:<handle>`: string, the link's digest (how the owner's handle finds it). Same expiry.
- `{links}:owner:<owner key>`: sorted set of the owner's links' digests, scored by created; what is older than
  HORIZON is trimmed when it is read, and the set expires HORIZON after its newest link.
- `{links}:remind`: sorted set of digests, scored by when link.expiring is due, or, while claimed, the lease's end.
The URL secret is nowhere; its digest names the link. Each change of a link is one Lua script that checks the rule
and writes; owner-scoped ones first read the handle key, then check in the script that the hash has that handle and
owner (a link gone or replaced in between reads as unknown).
"""

from __future__ import annotations

import json
from typing import Any

import redis

from links.model import HORIZON, LONGEST_LIFETIME, Link
from links.store import PAGE, Change, Reminder, page_bounds
from state import keys
from state.keys import owner_key
from state.redis_state import RecentFailure, RedisState

FIXED = ("handle", "digest", "owner_id", "owner_name", "origin_username", "created_by", "provider", "categories",
         "label", "account_id", "multiple", "created", "expires")

# KEYS: link, handle, owner set, reminders. ARGV: digest, handle, owner key, fixed JSON, created, expires, seconds to
# keep, reminder time or "".
CREATE = """
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'rec', ARGV[4], 'h', ARGV[2], 'o', ARGV[3], 'c', ARGV[5], 'x', ARGV[6], 'n', 0)
redis.call('EXPIRE', KEYS[1], ARGV[7])
redis.call('SET', KEYS[2], ARGV[1], 'EX', ARGV[7])
redis.call('ZADD', KEYS[3], ARGV[5], ARGV[1])
redis.call('EXPIRE', KEYS[3], ARGV[7])
if ARGV[8] ~= '' then redis.call('ZADD', KEYS[4], ARGV[8], ARGV[1]) end
-- A reminder due over a day ago belongs to a link that has ended: dropped here, so the set stays bounded even where
-- no tick claims them (no APP_WEBHOOK_URL), as the records' own expiry bounds the rest.
redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. (tonumber(ARGV[5]) - 86400))
return 1
"""

# Every change starts so. KEYS[1]: the link. ARGV: now, the oldest `created` still kept, then (owner-scoped) handle
# and owner key. Answers {-1} for a link gone or not the owner's, else `live` says whether it may be clicked.
CHANGE = """
local f = redis.call('HMGET', KEYS[1], 'c', 'x', 'n', 'done', 'wd', 'h', 'o')
local now = tonumber(ARGV[1])
if not f[1] or tonumber(f[1]) <= tonumber(ARGV[2]) then return {-1} end
if ARGV[3] and (f[6] ~= ARGV[3] or f[7] ~= ARGV[4]) then return {-1} end
local live = not f[4] and not f[5] and now < tonumber(f[2])
local function answer(code) return {code, unpack(redis.call('HGETALL', KEYS[1]))} end
"""

CLICK = CHANGE + """
if not live then return answer(0) end
redis.call('HINCRBY', KEYS[1], 'n', 1)
redis.call('HSETNX', KEYS[1], 'fc', ARGV[1])
redis.call('HSET', KEYS[1], 'lc', ARGV[1])
return answer(1)
"""

# KEYS: the link, the reminders. ARGV: as CHANGE's, then the account and the digest.
COMPLETE = CHANGE + """
if f[4] or tonumber(f[3]) == 0 then return answer(0) end
redis.call('HSET', KEYS[1], 'done', ARGV[1], 'acct', ARGV[5])
redis.call('ZREM', KEYS[2], ARGV[6])
return answer(1)
"""

# KEYS: the link, the reminders. ARGV: as CHANGE's, then "" and the digest.
WITHDRAW = CHANGE + """
if not live then return answer(0) end
redis.call('HSET', KEYS[1], 'wd', ARGV[1])
redis.call('ZREM', KEYS[2], ARGV[6])
return answer(1)
"""

# KEYS: the reminders. ARGV: now, lease end, limit. Answers the digests taken.
CLAIM = """
local taken = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
for _, member in ipairs(taken) do redis.call('ZADD', KEYS[1], ARGV[2], member) end
return taken
"""

# KEYS: the reminders. ARGV: digest, lease end.
FINISH = """
local held = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not held or tonumber(held) ~= tonumber(ARGV[2]) then return 0 end
return redis.call('ZREM', KEYS[1], ARGV[1])
"""


def _number(raw: bytes | None) -> float | None:
    return float(raw) if raw is not None else None


def parse(fields: dict[bytes, bytes]) -> Link | None:
    """A link from its hash (HGETALL's answer), or None when there is none."""
    if b"rec" not in fields:
        return None
    acct, fixed = fields.get(b"acct"), json.loads(fields[b"rec"])
    return Link(**fixed | {"categories": tuple(fixed["categories"])},
                clicks=int(fields.get(b"n", 0)), first_click=_number(fields.get(b"fc")),
                last_click=_number(fields.get(b"lc")), completed_at=_number(fields.get(b"done")),
                completed_account=acct.decode() if acct else None, withdrawn_at=_number(fields.get(b"wd")))


class RedisLinkStore:
    """Implements links.store.LinkStore on the app's Redis (its client, key prefix and outage view)."""

    def __init__(self, state: RedisState) -> None:
        self._state = state
        self._redis = state.client
        self._prefix = state.prefix
        self._create, self._claim, self._finish = (self._redis.register_script(s) for s in (CREATE, CLAIM, FINISH))
        self._click, self._complete, self._withdraw = (self._redis.register_script(s)
                                                       for s in (CLICK, COMPLETE, WITHDRAW))

    def _key(self, kind: str, name: str = "") -> str:
        return keys.links(self._prefix, kind, name) if name else keys.links(self._prefix, kind)

    def _ask(self, call, *args, **kwargs) -> Any:
        # The app's one view of Redis: refused at once moments after a failure; StateUnavailable, never RedisError.
        try:
            if self._state.outage.ongoing():
                raise RecentFailure("Redis failed moments ago")
            return call(*args, **kwargs)
        except redis.RedisError as exc:
            raise self._state.unavailable(exc) from None

    def create(self, link: Link, now: float) -> bool:
        """As LinkStore.create: one script."""
        fixed = {name: getattr(link, name) for name in FIXED} | {"categories": list(link.categories)}
        due = link.expiring_due_at
        keep = max(1, int(link.created + HORIZON - now) + 1)
        return bool(self._ask(self._create, keys=[self._key("link", link.digest), self._key("handle", link.handle),
                                                  self._key("owner", owner_key(link.owner_id)), self._key("remind")],
                              args=[link.digest, link.handle, owner_key(link.owner_id),
                                    json.dumps(fixed, separators=(",", ":")), repr(link.created),
                                    repr(link.expires), keep, "" if due is None else repr(due)]))

    def _hashes(self, digests: list[bytes]) -> list[Link | None]:
        pipe = self._redis.pipeline(transaction=False)
        for digest in digests:
            pipe.hgetall(self._key("link", digest.decode()))
        return [parse(fields) for fields in self._ask(pipe.execute)]

    def _read(self, digests: list[bytes], now: float) -> list[Link]:
        return [link for link in self._hashes(digests) if link is not None and link.visible(now)]

    def by_secret(self, digest: str, now: float) -> Link | None:
        """As LinkStore.by_secret: one HGETALL."""
        return next(iter(self._read([digest.encode()], now)), None)

    def find(self, owner_id: str, handle: str, now: float) -> Link | None:
        """As LinkStore.find: a GET and an HGETALL."""
        digest = self._ask(self._redis.get, self._key("handle", handle))
        found = self._read([digest], now) if digest else []
        return next((link for link in found if link.handle == handle and link.owner_id == owner_id), None)

    def owner_links(self, owner_id: str, now: float, *, limit: int = PAGE, offset: int = 0) -> list[Link]:
        """As LinkStore.owner_links: trim what has gone, read a page of the owner's set, then its hashes."""
        limit, offset = page_bounds(limit, offset)
        if not limit:
            return []
        key = self._key("owner", owner_key(owner_id))
        pipe = self._redis.pipeline(transaction=True)
        pipe.zremrangebyscore(key, "-inf", repr(now - HORIZON))
        pipe.zrevrange(key, offset, offset + limit - 1)
        return self._read(self._ask(pipe.execute)[1], now)

    def live_links(self, owner_id: str, now: float) -> list[Link]:
        """As LinkStore.live_links: the owner's set's last LONGEST_LIFETIME, then those links' hashes."""
        digests = self._ask(self._redis.zrevrangebyscore, self._key("owner", owner_key(owner_id)), "+inf",
                            repr(now - LONGEST_LIFETIME))
        return [link for link in self._read(digests, now) if link.live(now)]

    def _change(self, script, keys: list[str], args: list[Any]) -> Change:
        out = self._ask(script, keys=keys, args=args)
        if out[0] == -1:
            return Change(None)
        return Change(parse(dict(zip(out[1::2], out[2::2], strict=True))), out[0] == 1)

    def click(self, digest: str, now: float) -> Change:
        """As LinkStore.click: one script."""
        return self._change(self._click, [self._key("link", digest)], [repr(now), repr(now - HORIZON)])

    def _owned(self, script, owner_id: str, handle: str, now: float, account: str) -> Change:
        digest = self._ask(self._redis.get, self._key("handle", handle))
        if digest is None:
            return Change(None)
        return self._change(script, [self._key("link", digest.decode()), self._key("remind")],
                            [repr(now), repr(now - HORIZON), handle, owner_key(owner_id), account, digest])

    def complete(self, owner_id: str, handle: str, account_id: str, now: float) -> Change:
        """As LinkStore.complete: a GET, then one script."""
        return self._owned(self._complete, owner_id, handle, now, account_id)

    def withdraw(self, owner_id: str, handle: str, now: float) -> Change:
        """As LinkStore.withdraw: a GET, then one script."""
        return self._owned(self._withdraw, owner_id, handle, now, "")

    def claim_reminders(self, now: float, lease: float, limit: int) -> list[Reminder]:
        """As LinkStore.claim_reminders: one script takes them, then their hashes are read; a link gone or no longer
        live has its entry dropped (if still ours) rather than handed out."""
        if limit <= 0:
            return []
        until = now + lease
        digests = self._ask(self._claim, keys=[self._key("remind")], args=[repr(now), repr(until), limit])
        taken = []
        for digest, link in zip(digests, self._hashes(digests), strict=True):
            if link is not None and link.visible(now) and link.live(now):
                taken.append(Reminder(link, until))
            else:
                self._ask(self._finish, keys=[self._key("remind")], args=[digest, repr(until)])
        return taken

    def finish_reminder(self, reminder: Reminder) -> bool:
        """As LinkStore.finish_reminder: one script (compare the lease, then remove)."""
        return bool(self._ask(self._finish, keys=[self._key("remind")],
                              args=[reminder.link.digest, repr(reminder.until)]))
