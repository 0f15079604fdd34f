"""What the lines know of the request being answered, told by the web layer (which alone knows Flask's request):
its id for every line, and who asks from where for an audit line. Outside a request: nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_request_id: Callable[[], str | None] = lambda: None  # noqa: E731
_caller: Callable[[], dict[str, Any]] = dict


def tell(request_id: Callable[[], str | None], caller: Callable[[], dict[str, Any]]) -> None:
    """Install how to read the current request's id and its caller's fields (owner_id, username, route, client)."""
    global _request_id, _caller
    _request_id, _caller = request_id, caller


def request_id() -> str:
    """The current request's id, or "-"."""
    return _request_id() or "-"


def caller() -> dict[str, Any]:
    """The current request's caller as audit fields, or none."""
    return _caller()
