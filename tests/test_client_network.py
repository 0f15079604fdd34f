"""The client over real loopback sockets: POSTs are never re-sent once they may have left; timeouts bite."""

from __future__ import annotations

import socket
import threading

import pytest

from errors import UpstreamTimeout, UpstreamUnreachable
from stackone.client import StackOneClient
from tests.helpers import API_KEY


class CountingServer:
    """Accepts connections on 127.0.0.1, reads the request, then hangs up or stays silent; counts requests."""

    def __init__(self, *, silent: bool) -> None:
        self.silent = silent
        self.requests = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.port = self.sock.getsockname()[1]
        self.open: list[socket.socket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            conn.settimeout(2)
            try:
                if conn.recv(65536):
                    self.requests += 1
            except OSError:
                pass
            if self.silent:
                self.open.append(conn)  # never answer
            else:
                conn.close()  # hang up after the request arrived

    def close(self) -> None:
        self.sock.close()
        for conn in self.open:
            conn.close()


@pytest.fixture
def hangup():
    server = CountingServer(silent=False)
    yield server
    server.close()


@pytest.fixture
def silent():
    server = CountingServer(silent=True)
    yield server
    server.close()


def test_get_is_retried_after_a_hangup(hangup):
    client = StackOneClient(f"http://127.0.0.1:{hangup.port}", API_KEY, timeout=2)
    with pytest.raises(UpstreamUnreachable):
        client.connectors()
    assert hangup.requests == 3


def test_post_that_reached_the_server_is_not_resent(hangup):
    client = StackOneClient(f"http://127.0.0.1:{hangup.port}", API_KEY, timeout=2)
    with pytest.raises(UpstreamUnreachable):
        client.create_connect_session({"origin_owner_id": "o", "origin_owner_name": "n"})
    assert hangup.requests == 1


def test_silent_server_times_out_as_504(silent):
    client = StackOneClient(f"http://127.0.0.1:{silent.port}", API_KEY, timeout=0.3)
    with pytest.raises(UpstreamTimeout) as raised:
        client.create_connect_session({"origin_owner_id": "o", "origin_owner_name": "n"})
    assert raised.value.status == 504 and silent.requests == 1


def test_refused_connection_is_unreachable():
    with socket.create_server(("127.0.0.1", 0)) as s:
        port = s.getsockname()[1]
    client = StackOneClient(f"http://127.0.0.1:{port}", API_KEY, timeout=1)
    with pytest.raises(UpstreamUnreachable):
        client.create_connect_session({"origin_owner_id": "o", "origin_owner_name": "n"})


def test_a_silent_server_on_a_get_is_a_timeout_after_the_retries(silent):
    client = StackOneClient(f"http://127.0.0.1:{silent.port}", API_KEY, timeout=0.3)
    with pytest.raises(UpstreamTimeout) as raised:
        client.connectors()
    assert (raised.value.status, raised.value.code) == (504, "upstream_timeout") and silent.requests == 3
