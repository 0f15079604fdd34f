"""Redis's own duties, checked once as the fleet starts: the queue of events needs persistence (AOF or RDB snapshots)
and `maxmemory-policy noeviction`, or a restart or a full memory loses events for good (docs/operating.md).

One worker of the fleet checks (the first to take a marker key in Redis), once Redis answers, and says in one line
what it found: WARNING when a duty is not met or could not be checked (a managed Redis that forbids CONFIG), INFO
when both are met.
"""

from __future__ import annotations

import logging
import os
import threading
import time

import redis

from errors import StateUnavailable
from state import keys
from state.base import SharedState

log = logging.getLogger(__name__)

MARKER_TTL = 600  # seconds: the workers and hosts of one start (a rolling restart included) say it once
RETRY_SECONDS = 5.0  # while Redis does not answer yet


def duties_unmet(client: redis.Redis) -> tuple[list[str], list[str]]:
    """What Redis does not do that the queue needs, and what could not be checked (CONFIG refused)."""
    unmet, unchecked = [], []
    aof = bool(client.info("persistence").get("aof_enabled"))
    try:
        policy = client.config_get("maxmemory-policy").get("maxmemory-policy")
        snapshots = client.config_get("save").get("save")
    except redis.ResponseError:  # renamed or forbidden, as managed services often do
        policy = snapshots = None
        unchecked.append("maxmemory-policy and RDB snapshots (CONFIG GET is not allowed)")
    if policy is not None and policy != "noeviction":
        unmet.append(f"maxmemory-policy is {policy}, not noeviction (a full Redis evicts queued events)")
    if not aof and snapshots is not None and not snapshots.strip():
        unmet.append("persistence is off, neither AOF nor RDB snapshots (a restart loses queued events)")
    return unmet, unchecked


def report(client: redis.Redis) -> None:
    """Check the duties and say so in one line."""
    try:
        unmet, unchecked = duties_unmet(client)
    except redis.RedisError as exc:
        log.warning("Redis's persistence and maxmemory-policy could not be checked (%s); the queue needs both "
                    "(docs/operating.md)", type(exc).__name__)
        return
    if unmet:
        log.warning("Redis may lose queued events: %s; see docs/operating.md", "; ".join(unmet))
    elif unchecked:
        log.warning("Redis's %s could not be checked: make sure it persists (AOF or RDB) and never evicts "
                    "(maxmemory-policy noeviction); see docs/operating.md", " and ".join(unchecked))
    else:
        log.info("Redis keeps the queue: persistence on and maxmemory-policy noeviction")


def start_check(state: SharedState, url: str, timeout: float) -> threading.Thread:
    """Check the duties in the background, once Redis answers, if no other worker of this start has."""
    def run() -> None:
        while True:
            try:
                if not state.add(keys.REDIS_DUTIES_CHECKED, os.getpid(), ttl=MARKER_TTL):
                    return  # another worker (on this host or another) has said it
                break
            except StateUnavailable:
                time.sleep(RETRY_SECONDS)  # Redis is down (and said so): check once it is back
        client = redis.Redis.from_url(url, socket_timeout=max(timeout, 1.0), socket_connect_timeout=timeout)
        try:
            report(client)
        finally:
            client.close()

    thread = threading.Thread(target=run, name="redis-duties", daemon=True)
    thread.start()
    return thread
