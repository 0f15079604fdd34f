"""The current request's deadline (a time.monotonic() instant), readable by any layer without Flask.

The web layer sets it when a request is admitted and clears it when the request ends; the StackOne client bounds each
call by what is left of it, and a step that may be skipped takes a slice of it. Outside a request (the CLI, the
background loop) there is none. A context variable: each thread and each gevent greenlet has its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar, Token

_deadline: ContextVar[float | None] = ContextVar("request_deadline", default=None)


def current() -> float | None:
    """The deadline of the request being answered, or None."""
    return _deadline.get()


def remaining() -> float | None:
    """Seconds left until the deadline (negative once past it), or None without one."""
    deadline = _deadline.get()
    return None if deadline is None else deadline - time.monotonic()


def begin(deadline: float | None) -> Token:
    """Set the deadline for what follows in this context; `end(token)` restores the one before."""
    return _deadline.set(deadline)


def end(token: Token) -> None:
    """Restore the deadline `begin` replaced."""
    _deadline.reset(token)


@contextmanager
def until(deadline: float | None) -> Iterator[None]:
    """The block runs with this deadline (the CLI and tests; a request's is set by the web layer)."""
    token = begin(deadline)
    try:
        yield
    finally:
        end(token)


@contextmanager
def slice_of(share: float) -> Iterator[None]:
    """Within the block, the deadline is `share` of what is left of it: for a step that may be skipped (a check that
    saves a call when StackOne is quick), so that a slow answer leaves time for the step that may not."""
    deadline = _deadline.get()
    if deadline is None:
        yield
        return
    with until(time.monotonic() + max(0.0, deadline - time.monotonic()) * share):
        yield
