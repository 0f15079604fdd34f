"""Delivery that keeps its promises when the receiver fails: the whole retry schedule on a fast clock,
Retry-After, and a 410 that pauses delivery (an ERROR line, a metric, /readyz) until resume-events, with nothing
lost."""

from __future__ import annotations

import logging
import time
from email.utils import formatdate

import pytest

from app import create_app
from connections.schedule import MAX_RETRY_AFTER, RETRY_DELAYS, Failure, after_failure, parse_retry_after
from connections.sender import AppWebhookSender, DeliveryFailed
from tests import delivery_kit as kit
from tests.delivery_kit import SECRET, enqueue, event, ledger_on, one_pass, pause_on, sample

receiver = kit.receiver  # the kit's fixture


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
