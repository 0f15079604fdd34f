"""Sending one pass of due events concurrently, with a bounded pool (which events, and how many retries, the ledger's
claim decides: connections.ledger.DUE_BATCH).

The outbox hands `dispatch` its claimed entries and a function that attempts one (send, record); the pool's threads
are greenlets under gevent's monkey-patching and plain threads in the CLI, so one slow or dead receiver holds one
slot for at most the send's time limit, never the pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

SEND_CONCURRENCY = 8  # sends in flight per worker process at once


def dispatch(items: Sequence[Item], attempt: Callable[[Item], Result], *,
             concurrency: int = SEND_CONCURRENCY) -> list[Result]:
    """Attempt every item, at most `concurrency` at a time, started in order; the results in the items' order.

    `attempt` must not raise for an item's own failure (it records and returns it); anything it does raise (the
    shared state failing) is raised here once every other attempt has finished.
    """
    if not items:
        return []
    if concurrency <= 1 or len(items) == 1:
        return [attempt(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(concurrency, len(items)), thread_name_prefix="event-send") as pool:
        futures = [pool.submit(attempt, item) for item in items]
    return [future.result() for future in futures]
