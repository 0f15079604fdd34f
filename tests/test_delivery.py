"""Delivery that keeps its promises: a wall-clock limit on each send (plain threads and gevent), one pass sending
concurrently with first attempts ahead of a retry backlog (retries and pauses: tests/test_delivery_retries.py)."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from connections import delivery
from connections.ledger import DUE_BATCH, NEW, RETRY
from connections.outbox import LEASE
from connections.sender import AppWebhookSender, DeliveryFailed
from tests import delivery_kit as kit
from tests.delivery_kit import SECRET, enqueue, event, ledger_on, one_pass, pause_on
from tests.e2e_processes import ROOT

receiver = kit.receiver  # the kit's fixture


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


def test_the_time_limit_is_a_setting_with_bounds(env):
    from config import ConfigError, Settings

    webhook = {"APP_WEBHOOK_URL": "https://hooks.example.test/x", "APP_WEBHOOK_SECRET": SECRET}
    assert Settings.from_env({**env, **webhook}).events.app_webhook_timeout == 10.0
    assert Settings.from_env({**env, **webhook, "APP_WEBHOOK_TIMEOUT": "4"}).events.app_webhook_timeout == 4.0
    for bad in ("0.1", "31", "ten"):
        with pytest.raises(ConfigError, match="APP_WEBHOOK_TIMEOUT"):
            Settings.from_env({**env, **webhook, "APP_WEBHOOK_TIMEOUT": bad})
