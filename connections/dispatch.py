"""Sending one pass of due events concurrently, with a bounded pool: first attempts first, a cap on retries per pass.

A queue hands `dispatch` its due entries and a function that attempts one (claim, send, record); the pool's threads
are greenlets under gevent's monkey-patching and plain threads in the CLI, so one slow or dead receiver holds one
slot for at most the send's time limit, never the pass.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

SEND_CONCURRENCY = 8  # sends in flight per worker process at once
RETRIES_PER_PASS = 16  # retries one pass takes, at most: a backlog of them waits its turn behind new events


def plan(due: Iterable[Item], *, is_retry: Callable[[Item], bool], due_at: Callable[[Item], float],
         max_retries: int = RETRIES_PER_PASS) -> list[Item]:
    """This pass's order: every first attempt (oldest first), then the longest-waiting retries, at most max_retries."""
    firsts, retries = [], []
    for item in due:
        (retries if is_retry(item) else firsts).append(item)
    return sorted(firsts, key=due_at) + sorted(retries, key=due_at)[:max_retries]


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
