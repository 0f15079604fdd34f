"""The customer's backend as the delivery tests play it, and the ledger steps they take: queue, one pass."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client import REGISTRY
from standardwebhooks.webhooks import Webhook

from connections import delivery
from connections.ledger import DUE_BATCH, NEW, RETRY
from connections.ledger_sqlite import SqliteLedger
from connections.outbox import LEASE
from connections.pause import EndpointPause
from state import open_sqlite_state

SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
TRICKLE_EVERY = 0.2  # seconds between two bytes: far below any per-read timeout, so only a wall clock cuts it


class Receiver(ThreadingHTTPServer):
    """The customer's backend: verifies each delivery with standardwebhooks; `plan(event_id)` says how to answer."""

    daemon_threads = True

    def __init__(self, plan=lambda event_id: ("status", 204, {})) -> None:
        self.plan = plan
        self.verified: dict[str, float] = {}  # event id -> when it was verified
        self.trickled = 0  # bytes sent a byte at a time
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                Webhook(SECRET).verify(body, dict(self.headers))  # raises (and answers nothing) if forged
                how = outer.plan(self.headers["webhook-id"])
                if how[0] == "status":
                    outer.verified[self.headers["webhook-id"]] = time.monotonic()
                    self.send_response(how[1])
                    for name, value in how[2].items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                # Headers at once then the body a byte at a time, or the status line and headers a byte at a time.
                answer = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 1000
                at_once = answer.index(b"x") if how[0] == "trickle-body" else 9
                self.wfile.write(answer[:at_once])
                self.wfile.flush()
                rest = answer[at_once:]
                try:
                    for byte in rest[:150]:  # 30 s of trickling, unless cut
                        time.sleep(TRICKLE_EVERY)
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        outer.trickled += 1
                except OSError:
                    pass  # the sender hung up: what the time limit is for

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/events"


@pytest.fixture
def receiver():
    server = Receiver()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def event(event_id: str) -> dict:
    return {"id": event_id, "type": "connection.created", "timestamp": "2026-12-02T15:44:49Z",
            "data": {"accountId": event_id, "ownerId": "org-1", "provider": "hibob", "label": None,
                     "status": "active"}}


def ledger_on(tmp_path) -> SqliteLedger:
    return SqliteLedger(str(tmp_path))


def enqueue(ledger, sent: dict, now: float | None = None) -> None:
    """Queue one event as a change of its own account makes it."""
    assert ledger.write(f"acc-of-{sent['id']}", 0, {"owner_id": "org-1"}, events=[sent],
                        now=time.time() if now is None else now)


def one_pass(ledger, sender, pause, now: float | None = None) -> dict:
    """One tick's deliveries: what is due claimed, then sent."""
    now = time.time() if now is None else now
    claims = ledger.claim(now, LEASE, {NEW: DUE_BATCH[NEW], RETRY: DUE_BATCH[RETRY]})
    return delivery.deliver_due(ledger, claims, sender, None, pause, now)


def pause_on(tmp_path, url: str) -> EndpointPause:
    return EndpointPause(open_sqlite_state(str(tmp_path / "state")), url)


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0
