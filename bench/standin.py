"""A StackOne stand-in over TLS with a fixed service time, for `make bench`.

Run as `python bench/standin.py PORT DELAY CERT KEY`.

Answers POST /connect_sessions and GET /accounts (empty) after DELAY seconds; loopback only.
"""

from __future__ import annotations

import json
import socket
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StandIn(BaseHTTPRequestHandler):
    """Every answer waits the fixed delay, as a remote API's service time would."""

    protocol_version = "HTTP/1.1"
    delay = 0.02

    def setup(self):
        """Headers and body go out as separate writes: without TCP_NODELAY, Nagle and delayed ACKs add ~40 ms."""
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _answer(self, status: int, body: object) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        time.sleep(self.delay)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):  # noqa: N802 - the stdlib's name
        self._answer(201, {"id": 1, "token": "cst_bench_token_0123456789", "origin_owner_id": "o",
                           "origin_owner_name": "n", "created_at": "2026-11-22T00:00:00Z"})

    def do_GET(self):  # noqa: N802
        self._answer(200, [])

    def log_message(self, *args):
        pass


def main() -> None:
    """Serve HTTPS on 127.0.0.1:PORT."""
    port, delay, cert, key = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3], sys.argv[4]
    StandIn.delay = delay
    server = ThreadingHTTPServer(("127.0.0.1", port), StandIn)
    server.daemon_threads = True
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
