"""The customer's backend in the tests: a local HTTP server that verifies each event delivery with the
`standardwebhooks` library and keeps what it verified (optionally slow, or gone: 410 to everything)."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


class Receiver(ThreadingHTTPServer):
    """Verifies each delivery, keeps the verified payloads and their webhook-ids; `delay` seconds per answer."""

    daemon_threads = True

    def __init__(self, secret: str, delay: float = 0.0) -> None:
        self.verified: list[dict] = []
        self.refused = 0
        self.gone = False  # the customer deleted this endpoint: 410 Gone to everything
        self.gone_answers = 0
        self.ids: list[str] = []
        self.arrived = 0  # deliveries whose body was read, answered or still being answered
        self.delay = delay
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with outer._lock:
                    outer.arrived += 1
                if outer.delay:
                    time.sleep(outer.delay)
                if outer.gone:
                    outer.gone_answers += 1
                    self.send_response(410)
                    self.end_headers()
                    return
                try:
                    payload = Webhook(secret).verify(body, dict(self.headers))
                except Exception:  # the library's verification error: a forged or damaged delivery
                    outer.refused += 1
                    self.send_response(400)
                else:
                    with outer._lock:
                        outer.verified.append(payload)
                        outer.ids.append(self.headers["webhook-id"])
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        """Where the service sends events."""
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/stackone"

    def of(self, kind: str, account_id: str) -> list[dict]:
        """The verified events of one kind for one account."""
        return [e for e in self.verified if e["type"] == kind and e["data"]["accountId"] == account_id]
