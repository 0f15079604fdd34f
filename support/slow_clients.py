"""Slow clients for the serving tests and the bench: half-sent requests held open on a loopback port."""

from __future__ import annotations

import socket
import threading
import time


def hold_slow_clients(port: int, count: int, until: float, held: list | None = None) -> list[threading.Thread]:
    """Start `count` threads holding half-sent requests until `until` (monotonic); each opened socket joins `held`.

    Odd ones send a request line and trickle header lines; even ones send headers and trickle a body, one piece
    every 0.5 s, reconnecting whenever the server closes them.
    """

    def trickle(i: int) -> None:
        while time.monotonic() < until:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
                    if held is not None:
                        held.append(sock)
                    if i % 2:
                        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                        piece = b"X-Slow: 1\r\n"
                    else:
                        sock.sendall(b"POST /stackone_webhooks HTTP/1.1\r\nHost: x\r\n"
                                     b"Content-Type: application/json\r\nContent-Length: 50000\r\n\r\n")
                        piece = b"{"
                    while time.monotonic() < until:
                        sock.sendall(piece)
                        time.sleep(0.5)
            except OSError:
                time.sleep(0.1)

    threads = [threading.Thread(target=trickle, args=(i,), daemon=True) for i in range(count)]
    for thread in threads:
        thread.start()
    return threads
