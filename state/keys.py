"""The whole shared-state key space in one list: every key the service reads or writes, built here and nowhere else.

Keys of the shared state (state.SharedState: Redis with REDIS_URL, else STATE_DIR's SQLite `kv` table) are given
bare: Redis stores them under REDIS_KEY_PREFIX and a colon (state/redis_state.py), SQLite as they are. Redis's own
structures (the ledger, the budget, the per-owner limit) are built with the prefix here. No owner id, token or
caller's key ever appears in a key: each is a sha256 digest. The exact bytes are pinned by tests/test_state_keys.py
(stored data must be found after an upgrade) and listed in docs/operating.md, "The shared state's keys".

Read, never written: the legacy app's Flask-Session entries, LEGACY_SESSION_KEY_PREFIX + session id in that app's
own Redis (LEGACY_SESSION_REDIS_URL), read by identity/server_session.py.
"""

from __future__ import annotations

import hashlib


def digest(*parts: str | bytes, sep: bytes = b"\n") -> str:
    """sha256, in hex, of the parts (text as UTF-8) joined by `sep`: how an id, a token or a request enters a key."""
    return hashlib.sha256(sep.join(p if isinstance(p, bytes) else p.encode() for p in parts)).hexdigest()


def owner_key(owner_id: str) -> str:
    """The owner id as it appears in a key (and the ledger's owner column, the per-owner limit's counts): hashed."""
    return digest(owner_id)


# --- Sessions (sessions/): the mint path and the status polls ---------------------------------------------------


def reuse(owner_id: str, *decision: str) -> str:
    """A person's live session for one decision, sealed; SESSION_REUSE_WINDOW; sessions/flow.py, via Once."""
    return "reuse:" + digest(owner_key(owner_id), *decision, sep=b"\0")


def idempotency(owner_id: str, route: str, key: str) -> str:
    """An Idempotency-Key's claim, then its sealed answer; IDEMPOTENCY_TTL; web/idempotency.py, via Once."""
    return "idempotency:" + digest(owner_key(owner_id), route, key)


def caps_lock(owner_id: str) -> str:
    """The owner's caps lock, a holder's random token; a 6 s lease renewed while held; sessions/reservations.py."""
    return f"caps-lock:{owner_key(owner_id)}"


def reservations(owner_id: str) -> str:
    """The owner's reserved caps places, one per minted session; until the longest expires; sessions/reservations.py."""
    return f"reservations:{owner_key(owner_id)}"


def session_expiry(token: str) -> str:
    """When a session of a non-default lifetime ends; its lifetime and an hour; sessions/service.py."""
    return f"session-expiry:{digest(token)}"


def session_outcome(token: str) -> str:
    """A polled session's last outcome (StackOne's details); an hour; sessions/status.py."""
    return f"session-outcome:{digest(token)}"


def session_asking(token: str) -> str:
    """Set while one poll of the fleet asks StackOne about the session; 5 s; sessions/status.py."""
    return f"session-asking:{digest(token)}"


def account_created(owner_id: str, provider: str) -> str:
    """A signed account.created event that settles the owner's pending session; an hour; webhooks/events.py."""
    return f"account-created:{owner_key(owner_id)}:{provider}"


# --- StackOne (stackone/): the account directory's caches and the API key's budget ------------------------------


def accounts_generation(owner_id: str) -> str:
    """The owner's cache generation, new on every account webhook; twice ACCOUNT_CACHE_TTL; stackone/directory.py."""
    return f"accounts-gen:{owner_key(owner_id)}"


def accounts(owner_id: str, generation: str, provider: str | None) -> str:
    """The owner's account list (one provider, or "*"), cached; ACCOUNT_CACHE_TTL; stackone/directory.py."""
    return f"accounts:{owner_key(owner_id)}:{generation}:{provider or '*'}"


# The active connectors, cached; ten connector-cache TTLs at most; stackone/directory.py.
CONNECTORS = "connectors:active"
# Set while one request of the fleet refreshes the connectors; three STACKONE_TIMEOUTs; stackone/directory.py.
CONNECTORS_REFRESHING = "connectors:refreshing"
# StackOne's 429 pause, one host without Redis (epoch seconds); its Retry-After, 300 s at most; stackone/budget.py.
STACKONE_PAUSE = "stackone-pause"


def budget(prefix: str, window: int | str) -> str:
    """Redis: a window's StackOne calls, or the 429's pause; two windows, or its Retry-After; stackone/budget.py."""
    # The window's index (a hash: `n` every call, `bg` background calls), or "pause". One hash tag for every key of
    # the budget's Lua script, so that it runs on Redis Cluster.
    return f"{prefix.rstrip(':')}:{{stackone-budget}}:{window}"


# --- Webhooks, events to your app, health --------------------------------------------------------------------------


def webhook_replay(body: bytes) -> str:
    """A StackOne delivery's replay mark ("acting", then "done"); 30 s, then a day and 6 min; webhooks/events.py."""
    return f"webhook:{digest(body)}"


# Delivery to APP_WEBHOOK_URL paused after a 410 ({since, status}); until resumed, 30 days at most;
# connections/pause.py.
ENDPOINT_PAUSED = "events-endpoint-paused"
# A 404 from a route StackOne always serves: STACKONE_API_URL is wrong ({apiUrl, route}); 120 s; web/views/health.py.
WRONG_URL = "stackone:wrong-url"
# The first worker of a start to take it checks Redis's persistence and eviction (its pid); 600 s;
# state/redis_duties.py.
REDIS_DUTIES_CHECKED = "redis-duties-checked"


def ledger(prefix: str, *parts: str) -> str:
    """Redis: the connection ledger; kept (a deleted account's record 30 days); connections/ledger_redis.py."""
    # Parts: rec <account id> (a hash: `r` the applied state, `v` its revision), owner <owner key> or owner - (a set
    # of account ids), known (a set of account ids), ev <event id> (a hash: `e` the event, `n` attempts, `err`), once
    # <event id> (queue_once's mark, 30 days), due <kind> (a sorted set by due time; kinds new, retry, remind, pass).
    # One hash tag: the scripts run on a Cluster.
    return f"{prefix.rstrip(':')}:{{conn}}:" + ":".join(parts)


def links(prefix: str, *parts: str) -> str:
    """Redis: Auth Links of the customer's own; each kept 37 days after it was made; links/store_redis.py."""
    # Parts: link <digest of the URL secret> (a hash: the record), handle <handle> (the digest), owner <owner key> (a
    # sorted set of digests by created), remind (a sorted set of digests by when link.expiring is due). One hash tag.
    return f"{prefix.rstrip(':')}:{{links}}:" + ":".join(parts)


def limits_prefix(prefix: str) -> str:
    """Redis: the prefix of the per-owner limit's counts; each rule's window; ratelimit/ (the limits library)."""
    # The library's keys: <this>:LIMITER/<scope>/<owner key>/<amount>/<multiples>/<granularity>, scope `owner` or
    # `status` (OWNER_RATE_LIMIT, OWNER_STATUS_RATE_LIMIT).
    return f"{prefix}:limits"


# --- From before the ledger: read once by connections/folder_import.py, then left to expire ----------------------

# The import ran (a marker key in Redis, 30 days; a file of the same name in STATE_DIR with the counts).
LEDGER_IMPORTED = "ledger-imported-from-files"
# The old keys: every owner id, every queued event id, each event, each owner's accounts, each account's record.
OLD_OWNERS = "conn-owners"
OLD_OUTBOX_INDEX = "outbox-index"


def old_outbox(event_id: str) -> str:
    """A queued event of old."""
    return f"outbox:{event_id}"


def old_owner_accounts(owner_id: str) -> str:
    """An owner's account ids of old."""
    return f"conn-owner:{owner_key(owner_id)}"


def old_account(account_id: str) -> str:
    """An account's record of old."""
    return f"conn:{digest(account_id)}"


def old_file(key: str) -> str:
    """The file that held one key in STATE_DIR, before the database."""
    return digest(key) + ".json"
