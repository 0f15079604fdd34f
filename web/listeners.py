"""Which listener a request arrived on, told by its socket: the public one, or METRICS_BIND's internal one.

gunicorn's master names the metrics listener's bound address once its sockets exist (METRICS_SOCKET_ENV, read by
the workers it forks); the worker (serving/worker.py) stamps every request's environ before any middleware runs,
from the listening socket the connection was accepted on. Nothing the client sends (Host, X-Forwarded-*, hence
SERVER_PORT after ProxyFix) can move a request onto the metrics listener.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

METRICS_SOCKET_ENV = "STACKONE_CONNECT_METRICS_SOCKETS"
LISTENER_KEY = "stackone_connect.listener"
PUBLIC = "public"
METRICS = "metrics"
# What the metrics listener answers; everything else there is a 404, like an unknown path.
METRICS_PATHS = frozenset({"/metrics", "/healthz"})


def parse_bind(bind: str) -> tuple[str, int] | str | int:
    """A bind string as gunicorn reads it: (host, port), a unix path, or a file descriptor."""
    from gunicorn.util import parse_address

    return parse_address(bind)


def publish_metrics_sockets(listeners: Iterable, metrics_bind: str | None) -> None:
    """In the master, once bound: record the addresses of the listeners METRICS_BIND made, for the workers."""
    if not metrics_bind:
        os.environ.pop(METRICS_SOCKET_ENV, None)
        return
    wanted = parse_bind(metrics_bind)
    names = [_plain(sock.getsockname()) for sock in listeners if getattr(sock, "cfg_addr", None) == wanted]
    os.environ[METRICS_SOCKET_ENV] = json.dumps(names)


def metrics_socket_names() -> frozenset:
    """In a worker: the bound addresses (as getsockname gives them) of the metrics listeners; empty when off."""
    try:
        names = json.loads(os.environ.get(METRICS_SOCKET_ENV) or "[]")
    except ValueError:
        return frozenset()
    return frozenset(_hashable(name) for name in names)


def listener_kind(listener_name, metrics_names: frozenset) -> str:
    """METRICS or PUBLIC for the accepting socket's getsockname()."""
    return METRICS if _hashable(_plain(listener_name)) in metrics_names else PUBLIC


def _plain(name):
    # getsockname: (host, port) for IPv4, a 4-tuple for IPv6, a path for a unix socket.
    return list(name) if isinstance(name, tuple) else name


def _hashable(name):
    return tuple(name) if isinstance(name, list) else name


def on_metrics_listener(environ) -> bool:
    """True only when the worker stamped this request as accepted on the metrics listener."""
    return environ.get(LISTENER_KEY) == METRICS
