"""A Redis that accepts connections and never answers: one timeout per interval, not one per question."""

from __future__ import annotations

import socket
import threading

import pytest

from app import create_app
from tests.helpers import API, account, bearer, session_answer


@pytest.fixture
def hung_redis():
    """A loopback listener that accepts and holds every connection without a byte in reply; counts them."""
    server = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept():
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0", held
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_while_redis_hangs_a_mint_waits_for_one_timeout_per_interval(env, stackone, hung_redis):
    url, connections = hung_redis
    client = create_app({**env, "REDIS_URL": url, "REDIS_TIMEOUT": "0.3"}).test_client()
    for _ in range(5):
        stackone.get(f"{API}/accounts", json=[account("acc-1")])
        stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    answers = [client.post("/stackone_connect_sessions", json={"provider": "bamboohr"}, headers=bearer())
               for _ in range(5)]
    # Each still minted (the cache bypassed, the limit counted in the process), and Redis was asked once in all:
    # the limit's timeout spared the account cache and the session record theirs, and every later request too.
    assert [a.status_code for a in answers] == [200] * 5
    assert len(connections) == 1
