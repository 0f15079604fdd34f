"""The one poll-until loop: ask again every few milliseconds until there is an answer or the deadline is near."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(check: Callable[[], T | None], deadline: float | None, every: float) -> T | None:
    """check() until it returns something other than None, sleeping `every` seconds between tries; None once another
    try could not start before `deadline` (time.monotonic(); None waits for as long as it takes)."""
    while True:
        answer = check()
        if answer is not None:
            return answer
        if deadline is not None and time.monotonic() + every >= deadline:
            return None
        time.sleep(every)  # under gevent a cooperative wait: the worker serves others meanwhile
