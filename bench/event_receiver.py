"""The customer's app for bench/scale.py: a receiver in a process of its own that answers every event 204 and counts
them. Run as `python bench/event_receiver.py PORT` (Receiver starts it so)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Counting(ThreadingHTTPServer):
    """The customer's app: answers every POSTed event 204 at once (a thread per connection; no keep-alive), and says
    how many it has had on GET."""

    daemon_threads = True
    received = 0

    def __init__(self, port: int) -> None:
        server = self
        lock = threading.Lock()

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with lock:
                    server.received += 1
                self.send_response(204)
                self.end_headers()

            def do_GET(self):  # noqa: N802
                body = str(server.received).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", port), Handler)


class Receiver:
    """The receiver in a process of its own (as the customer's app would be: it never shares this one's GIL)."""

    def __init__(self) -> None:
        with socket.create_server(("127.0.0.1", 0)) as probe:
            port = probe.getsockname()[1]
        self.process = subprocess.Popen([sys.executable, __file__, str(port)])
        self.url = f"http://127.0.0.1:{port}/events"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.received()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the receiver did not start")

    def received(self) -> int:
        """How many events it has been sent."""
        with urllib.request.urlopen(self.url, timeout=5) as answer:
            return int(answer.read())

    def shutdown(self) -> None:
        """Stop its process."""
        self.process.terminate()
        self.process.wait()


if __name__ == "__main__":
    Counting(int(sys.argv[1])).serve_forever()
