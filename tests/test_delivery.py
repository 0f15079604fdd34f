"""Delivery that keeps its promises: a wall-clock limit on each send (plain threads and gevent), one pass sending
concurrently with first attempts ahead of a retry backlog, the whole retry schedule on a fast clock, Retry-After,
and a 410 that pauses delivery (an ERROR line, a metric, /readyz) until resume-events, with nothing lost."""

from __future__ import annotations

import base64
import logging
import secrets
import subprocess
import sys
import threading
import time
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from prometheus_client import REGISTRY
from standardwebhooks.webhooks import Webhook

from app import create_app
from connections import delivery
from connections.ledger import DUE_BATCH, NEW, RETRY
from connections.ledger_sqlite import SqliteLedger
from connections.outbox import LEASE
from connections.pause import EndpointPause
from connections.schedule import MAX_RETRY_AFTER, RETRY_DELAYS, Failure, after_failure, parse_retry_after
from connections.sender import AppWebhookSender, DeliveryFailed
from state import open_sqlite_state
from tests.e2e_processes import ROOT

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


@pytest.mark.parametrize("how", ["trickle-body", "trickle-headers"])
def test_a_receiver_that_trickles_its_answer_is_cut_at_the_time_limit(receiver, how):
    receiver.plan = lambda event_id: (how,)
    sender = AppWebhookSender(receiver.url, SECRET, time_limit=1.0)
    started = time.monotonic()
    with pytest.raises(DeliveryFailed) as failed:
        sender.send(event("evt-trickle"))
    took = time.monotonic() - started
    # Cut at the limit: a per-read timeout alone would have waited the whole 30 s trickle (the margin is for a busy
    # machine, not for the limit).
    assert 1.0 <= took < 6, took
    assert str(failed.value) == "no answer within 1 s" and failed.value.failure.status is None
    assert receiver.trickled >= 3  # it was trickling, not silent, when it was cut


GEVENT_SEND = """
from gevent import monkey; monkey.patch_all()
import sys, time, gevent
sys.path.insert(0, {root!r})
from connections.sender import AppWebhookSender, DeliveryFailed
ticks = []
ticker = gevent.spawn(lambda: [ticks.append(gevent.sleep(0.05)) for _ in range(60)])
started = time.monotonic()
try:
    AppWebhookSender({url!r}, {secret!r}, time_limit=1.0).send({event!r})
except DeliveryFailed as exc:
    print(str(exc), round(time.monotonic() - started, 2), len(ticks))
"""


def test_under_gevent_a_trickling_send_is_cut_and_the_worker_keeps_running(receiver):
    receiver.plan = lambda event_id: ("trickle-body",)
    script = GEVENT_SEND.format(root=str(ROOT), url=receiver.url, secret=SECRET, event=event("evt-gevent"))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    reason, took, ticks = done.stdout.rsplit(" ", 2)
    assert reason == "no answer within 1 s" and 1.0 <= float(took) < 6, done.stdout
    assert int(ticks) >= 10  # other greenlets ran meanwhile: the send waited cooperatively


def test_one_pass_sends_every_due_event_at_once_and_a_slow_receiver_holds_only_its_own(receiver, tmp_path):
    receiver.plan = lambda event_id: ("trickle-body",) if event_id == "evt-slow" else ("status", 204, {})
    ledger = ledger_on(tmp_path)
    ids = ["evt-slow", *(f"evt-{n}" for n in range(7))]
    for event_id in ids:
        enqueue(ledger, event(event_id))
    sender = AppWebhookSender(receiver.url, SECRET, time_limit=1.5)
    started = time.monotonic()
    counts = one_pass(ledger, sender, pause_on(tmp_path, receiver.url))
    took = time.monotonic() - started
    assert counts == {"delivered": 7, "retry": 1, "failed": 0, "held": 0}
    assert sorted(receiver.verified) == sorted(ids[1:])
    # Each healthy event reached the receiver while the slow one was still being sent, and one pass cost one limit.
    assert max(receiver.verified.values()) - started < 1.5 and took < 6, (receiver.verified, took)
    slow = ledger.queued("evt-slow")
    assert (slow.attempts, slow.last_error) == (1, "no answer within 1.5 s")
    assert ledger.queued_ids() == ["evt-slow"]


def test_first_attempts_are_not_queued_behind_a_backlog_of_retries(tmp_path):
    ledger = ledger_on(tmp_path)
    now = time.time()
    for n in range(40):  # a receiver was down: a backlog of retries, all due
        enqueue(ledger, event(f"evt-retry-{n:02}"), now - 200)
    for claim in ledger.claim(now - 200, LEASE, {NEW: 40}):
        ledger.retry(claim, now - 100 + int(claim.id[-2:]), "HTTP 500")
    for n in range(3):
        enqueue(ledger, event(f"evt-new-{n}"), now)
    sent: list[str] = []
    counts = delivery.deliver(ledger, ledger.claim(now + 1, LEASE, DUE_BATCH), lambda e: sent.append(e["id"]), now + 1)
    assert {f"evt-new-{n}" for n in range(3)} <= set(sent)
    # The retries waiting longest go in this pass, as many as one pass takes; the rest keep their place.
    assert sorted(i for i in sent if "retry" in i) == [f"evt-retry-{n:02}" for n in range(DUE_BATCH[RETRY])]
    assert counts["delivered"] == 3 + DUE_BATCH[RETRY] and ledger.backlog() == 40 - DUE_BATCH[RETRY]
    assert ledger.queued("evt-retry-39").attempts == 1


def next_due(ledger, event_id: str) -> float:
    """When the event is due again (read off the SQLite due table: the test's view, not the service's)."""
    with ledger._transaction(immediate=False) as db:
        row = db.execute("SELECT at FROM conn_due WHERE id = ? AND kind IN ('new', 'retry')", (event_id,)).fetchone()
    return row[0]


class Failing:
    """APP_WEBHOOK_URL answering 500 to everything; records when each attempt came."""

    def __init__(self, clock: list[float]) -> None:
        self.clock = clock
        self.attempts: list[float] = []

    def send(self, sent: dict) -> None:
        self.attempts.append(self.clock[0])
        raise DeliveryFailed(Failure("HTTP 500", 500))


def test_the_whole_retry_schedule_on_a_fast_clock_then_the_event_is_given_up(tmp_path, caplog):
    assert RETRY_DELAYS == (5, 300, 1800, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)  # what docs/events.md states
    ledger = ledger_on(tmp_path)
    clock = [1_000_000.0]
    enqueue(ledger, event("evt-doomed"), clock[0])
    receiver = Failing(clock)
    pause = pause_on(tmp_path, "https://hooks.example.test/x")
    failed_before = sample("app_webhook_deliveries_total", outcome="failed")
    with caplog.at_level(logging.WARNING):
        while ledger.backlog():
            one_pass(ledger, receiver, pause, now=clock[0])
            if ledger.queued("evt-doomed") is None:
                break
            next_at = next_due(ledger, "evt-doomed")
            clock[0] = next_at - 1
            one_pass(ledger, receiver, pause, now=clock[0])  # a second early: not tried
            clock[0] = next_at
    waits = [later - earlier for earlier, later in zip(receiver.attempts, receiver.attempts[1:], strict=False)]
    assert len(receiver.attempts) == 8 and len(waits) == len(RETRY_DELAYS)
    for waited, nominal in zip(waits, RETRY_DELAYS, strict=True):
        assert 0.8 * nominal <= waited <= 1.2 * nominal, (waited, nominal)
    assert 0.8 * 99305 <= receiver.attempts[-1] - receiver.attempts[0] <= 1.2 * 99305  # 27 h 35 min, ±20%
    assert sample("app_webhook_deliveries_total", outcome="failed") == failed_before + 1
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["event evt-doomed (connection.created) not delivered after 8 attempts over the whole retry "
                      "schedule (HTTP 500); given up"]


@pytest.mark.parametrize(("header", "expected"), [
    ("120", 120.0), (" 0 ", 0.0), ("999999999", MAX_RETRY_AFTER), (None, None), ("", None), ("soon", None),
    ("-5", None), ("1.5", None), (formatdate(1_000_000 + 3600, usegmt=True), 3600.0),
    (formatdate(1_000_000 - 60, usegmt=True), 0.0)])
def test_retry_after_is_read_as_seconds_or_an_http_date_within_bounds(header, expected):
    assert parse_retry_after(header, now=1_000_000.0) == expected


@pytest.mark.parametrize(("status", "asked", "attempts_before", "waits"), [
    (429, 120.0, 0, (120.0, 120.0)),  # longer than the schedule's 5 s: the receiver's ask wins
    (503, 10.0, 2, (1440.0, 2160.0)),  # shorter than the schedule's 30 min: the schedule (never sooner)
    (500, 120.0, 0, (4.0, 6.0)),  # not a status that asks to wait: the schedule
])
def test_retry_after_is_honoured_and_never_brings_a_retry_forward(status, asked, attempts_before, waits):
    step = after_failure(attempts_before, Failure(f"HTTP {status}", status, asked))
    assert step.action == "retry" and waits[0] <= step.delay <= waits[1]


@pytest.mark.parametrize("retry_after", ["120", "date"])
def test_a_429_with_retry_after_moves_the_next_try_as_the_receiver_asks(receiver, tmp_path, retry_after):
    header = "120" if retry_after == "120" else formatdate(time.time() + 120, usegmt=True)
    receiver.plan = lambda event_id: ("status", 429, {"Retry-After": header})
    ledger = ledger_on(tmp_path)
    now = time.time()
    enqueue(ledger, event("evt-throttled"), now)
    counts = one_pass(ledger, AppWebhookSender(receiver.url, SECRET, time_limit=2), pause_on(tmp_path, receiver.url),
                      now=now)
    assert counts["retry"] == 1
    assert next_due(ledger, "evt-throttled") - now == pytest.approx(120, abs=2)


class GoneOnce:
    """APP_WEBHOOK_URL deleted at the customer (410 Gone) until `back`; then it takes everything."""

    def __init__(self) -> None:
        self.back = False
        self.tried: list[str] = []
        self.delivered: list[str] = []

    def send(self, sent: dict) -> None:
        self.tried.append(sent["id"])
        if not self.back:
            raise DeliveryFailed(Failure("HTTP 410", 410))
        self.delivered.append(sent["id"])


def test_a_410_pauses_delivery_until_the_operator_resumes_it_and_nothing_is_lost(env, caplog):
    url = "https://user:pw-secret@hooks.example.test:8443/hooks/s3cr3t-path?token=q-secret"
    app = create_app({**env, "APP_WEBHOOK_URL": url, "APP_WEBHOOK_SECRET": SECRET, "RECONCILE_INTERVAL": "0"})
    svc = app.extensions["stackone_connect"]
    receiver = GoneOnce()
    svc.__dict__["app_sender"] = receiver  # the endpoint as the test plays it
    ids = [f"evt-{n}" for n in range(5)]
    for event_id in ids:
        enqueue(svc.connections.ledger, event(event_id))
    paused_before = sample("app_webhook_endpoint_paused_total")
    with app.app_context(), caplog.at_level(logging.WARNING):
        first = svc.run_due()
        assert first["held"] == 5 and first["delivered"] == first["retry"] == first["failed"] == 0
        assert 1 <= len(receiver.tried) <= 5  # the 410 stopped the sends not yet started
        tried = len(receiver.tried)
        assert svc.run_due() == {"reminded": 0, "held": 5, "paused": 1} and len(receiver.tried) == tried  # none sent
    assert sample("app_webhook_endpoint_paused_total") == paused_before + 1
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == ["APP_WEBHOOK_URL (https://hooks.example.test:8443) answered 410 Gone: delivery paused, 5 events "
                      "held in the queue until an operator runs resume-events"]

    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["events"] == "paused"
    reason = ready.get_json()["eventsReason"]
    assert reason.startswith("APP_WEBHOOK_URL (https://hooks.example.test:8443) answered 410 Gone at ")
    assert not [part for part in ("pw-secret", "s3cr3t-path", "q-secret", "user") if part in ready.get_data(True)]
    assert all(svc.connections.ledger.queued(i).attempts == 0 for i in ids)  # the 410 cost no attempt

    resumed = app.test_cli_runner().invoke(args=["resume-events"])
    assert resumed.exit_code == 0 and resumed.output.strip() == "delivery resumed: 5 events queued"
    assert app.test_client().get("/readyz").get_json() == {"status": "ready"}
    receiver.back = True
    with app.app_context():
        assert svc.run_due()["delivered"] == 5
    assert sorted(receiver.delivered) == ids and svc.connections.ledger.backlog() == 0
    again = app.test_cli_runner().invoke(args=["resume-events"])
    assert again.output.strip() == "delivery was not paused: 0 events queued"
    app.extensions["stackone_connect"].client.close()


def test_the_time_limit_is_a_setting_with_bounds(env):
    from config import ConfigError, Settings

    webhook = {"APP_WEBHOOK_URL": "https://hooks.example.test/x", "APP_WEBHOOK_SECRET": SECRET}
    assert Settings.from_env({**env, **webhook}).app_webhook_timeout == 10.0
    assert Settings.from_env({**env, **webhook, "APP_WEBHOOK_TIMEOUT": "4"}).app_webhook_timeout == 4.0
    for bad in ("0.1", "31", "ten"):
        with pytest.raises(ConfigError, match="APP_WEBHOOK_TIMEOUT"):
            Settings.from_env({**env, **webhook, "APP_WEBHOOK_TIMEOUT": bad})
