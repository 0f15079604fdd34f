"""Connection state in plain Python: the events each change makes, order, reminders on a frozen clock, and a property
test that shuffled, repeated and lost account events leave, after one reconcile, exactly StackOne's view."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connections.changes import BROKE, CREATED, DELETED, REPAIRED, Observation, events_for
from connections.ledger import REMIND
from connections.ledger_sqlite import SqliteLedger
from connections.monitor import ConnectionMonitor
from connections.outbox import LEASE
from domain.accounts import Account


class Clock:
    """A frozen clock the test moves."""

    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class StackOneAccounts:
    """StackOne's truth for the reconcile pass: the StackOneClient methods the monitor calls, over a dict."""

    def __init__(self) -> None:
        self.accounts: dict[str, Account] = {}

    def list_accounts(self, owner_id, provider=None):
        return [a for a in self.accounts.values() if a.origin_owner_id == owner_id]

    def get_account(self, account_id):
        return self.accounts.get(account_id)


def monitor_on(tmp_path, clock=None, truth=None) -> ConnectionMonitor:
    clock = clock or Clock()
    return ConnectionMonitor(SqliteLedger(str(tmp_path), clock=clock), client=truth or StackOneAccounts(),
                             sending=True, reminder_seconds=24 * 3600, clock=clock)


def queued_events(monitor) -> list[dict]:
    return [monitor.ledger.queued(i).event for i in monitor.ledger.queued_ids(1000)]


def queued(monitor) -> list[tuple[str, str]]:
    return sorted((event["type"], event["data"]["accountId"]) for event in queued_events(monitor))


def remind_due(monitor) -> int:
    """One tick's reminders: the due ones claimed and looked at."""
    return sum(monitor.remind(c) for c in monitor.ledger.claim(monitor.now(), LEASE, {REMIND: 100}))


ACTIVE = Observation("acc-1", "org-1", status="active", provider="hibob")


@pytest.mark.parametrize(("previous", "now", "events"), [
    (None, ACTIVE, [CREATED]),
    (None, replace(ACTIVE, status="error"), [CREATED, BROKE]),
    ({"status": "active"}, replace(ACTIVE, status="error"), [BROKE]),
    ({"status": "error"}, replace(ACTIVE, status="expired"), []),  # still broken: nothing new to say
    ({"status": "error"}, ACTIVE, [REPAIRED]),
    ({"status": "active"}, ACTIVE, []),
    ({"status": "active"}, replace(ACTIVE, deleted=True), [DELETED]),
    ({"status": "deleted", "deleted": True}, replace(ACTIVE, deleted=True), []),
    (None, replace(ACTIVE, deleted=True), []),
    ({"status": "deleted", "deleted": True}, ACTIVE, [CREATED]),
    # Deleted by this service itself: announced even if never seen here, or seen only as an unannounced deletion;
    # not when its deletion was announced already (StackOne's webhook came first, or a rerun).
    (None, replace(ACTIVE, deleted=True, deleted_here=True), [DELETED]),
    ({"status": "deleted", "deleted": True, "version": 0}, replace(ACTIVE, deleted=True, deleted_here=True),
     [DELETED]),
    ({"status": "deleted", "deleted": True, "version": 2}, replace(ACTIVE, deleted=True, deleted_here=True), []),
])
def test_each_change_makes_its_events_and_no_others(previous, now, events):
    assert events_for(previous, now) == events


def test_an_older_observation_is_dropped_and_a_repeat_makes_nothing(tmp_path):
    monitor = monitor_on(tmp_path)
    assert monitor.apply(replace(ACTIVE, status="error"), (200.0, 1), "webhook") == "applied"
    assert monitor.apply(ACTIVE, (100.0, 5), "webhook") == "stale"  # older event time: acknowledged, dropped
    assert monitor.apply(replace(ACTIVE, status="error"), (300.0, 1), "webhook") == "unchanged"
    assert monitor.apply(ACTIVE, (300.0, 2), "webhook") == "applied"  # same time, later delivery
    assert queued(monitor) == [(BROKE, "acc-1"), (CREATED, "acc-1"), (REPAIRED, "acc-1")]


def test_the_reminder_fires_once_per_interval_while_broken_and_stops_once_repaired(tmp_path):
    clock = Clock()
    monitor = monitor_on(tmp_path, clock)
    monitor.apply(replace(ACTIVE, status="error"), (clock.now, 1), "webhook")
    before = len(queued(monitor))
    fired = []
    for hours in (1, 23.9, 24, 24.5, 47.9, 48, 60):
        clock.now = 1_000_000.0 + hours * 3600
        fired.append(remind_due(monitor))
    assert fired == [0, 0, 1, 0, 0, 1, 0]
    assert len(queued(monitor)) == before + 2
    monitor.apply(ACTIVE, (clock.now, 2), "webhook")
    clock.now += 5 * 24 * 3600
    assert remind_due(monitor) == 0
    assert sum(e["data"].get("reminder") is True for e in queued_events(monitor)) == 2


STATUSES = ["active", "error", "expired", "active", "deleted"]


@st.composite
def histories(draw):
    """Per account, a history of states StackOne went through; each state change is one account.* event."""
    owners = draw(st.lists(st.sampled_from(["org-a", "org-b", "org-c"]), min_size=1, max_size=3, unique=True))
    accounts = {}
    for n in range(draw(st.integers(1, 5))):
        accounts[f"acc-{n}"] = (draw(st.sampled_from(owners)),
                                draw(st.lists(st.sampled_from(STATUSES), min_size=1, max_size=5)))
    return accounts


@settings(max_examples=60, deadline=None)
@given(histories(), st.randoms(use_true_random=False), st.data())
def test_shuffled_repeated_and_lost_events_then_one_reconcile_give_stackones_view(tmp_path_factory, history, rnd,
                                                                                 data):
    tmp = tmp_path_factory.mktemp("property")
    truth = StackOneAccounts()
    monitor = monitor_on(tmp, truth=truth)
    deliveries = []
    for account_id, (owner, states) in history.items():
        for step, status in enumerate(states):
            seen = Observation(account_id, owner, deleted=status == "deleted", status=status, provider="hibob")
            deliveries.append((seen, (1000.0 + step, step)))
        last = states[-1]
        if last != "deleted":
            truth.accounts[account_id] = Account(account_id, "hibob", owner, status=last)
    # StackOne's delivery: at least once, in any order, some lost.
    deliveries = [d for d in deliveries if data.draw(st.booleans(), label="delivered")] + \
        [d for d in deliveries if data.draw(st.booleans(), label="delivered twice")]
    rnd.shuffle(deliveries)
    for seen, when in deliveries:
        monitor.apply(seen, when, "webhook")
    for owner in {owner for owner, _ in history.values()}:
        monitor.reconcile_owner(owner)
    for account_id, (owner, _) in history.items():
        record, _ = monitor.ledger.read(account_id)
        expected = truth.accounts.get(account_id)
        if expected is None:
            assert record is None or record["deleted"], (account_id, record)
        else:
            assert (record["status"], record["owner_id"], record["deleted"]) == (expected.status, owner, False)
    # Other owners' accounts never appear under an owner.
    for owner in {owner for owner, _ in history.values()}:
        assert all(history[a][0] == owner for a in monitor.ledger.owner_accounts(owner))


class ShiftingPages(StackOneAccounts):
    """StackOne paging by number while accounts come and go: one live account falls between two pages."""

    def __init__(self, skipped: str) -> None:
        super().__init__()
        self.skipped = skipped

    def account_pages(self, page_size=100):
        yield [a for a in self.accounts.values() if a.id != self.skipped]


def test_a_reconcile_pass_asks_before_it_believes_an_account_deleted(tmp_path):
    from connections.reconcile import reconcile_project

    truth = ShiftingPages(skipped="acc-2")
    monitor = monitor_on(tmp_path, truth=truth)
    for n in (1, 2, 3):
        truth.accounts[f"acc-{n}"] = Account(f"acc-{n}", "hibob", "org-a", status="active")
        monitor.apply(Observation(f"acc-{n}", "org-a", status="active", provider="hibob"), (1.0, n), "webhook")
    del truth.accounts["acc-3"]  # really gone
    counts = reconcile_project(monitor, truth)
    assert counts["inferred_missing"] == 1
    assert monitor.ledger.read("acc-2")[0]["deleted"] is False  # skipped by the pages, but StackOne has it
    assert monitor.ledger.read("acc-3")[0]["deleted"] is True
    assert sorted(t for t, a in queued(monitor) if a == "acc-2") == [CREATED]  # nothing said of acc-2 but its birth


def test_the_scheduled_pass_runs_beside_the_ticks_and_is_due_again_an_interval_later(env, stackone):
    import base64
    import secrets
    import threading
    import time

    from app import create_app
    from connections.background import RECONCILE
    from connections.ledger import PASS
    from tests.helpers import API, account

    app = create_app({**env, "APP_WEBHOOK_URL": "https://app.example.test/hooks", "RECONCILE_INTERVAL": "600",
                      "APP_WEBHOOK_SECRET": "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()})
    svc = app.extensions["stackone_connect"]
    svc.__dict__["app_sender"] = type("Quiet", (), {"send": lambda self, event: None})()
    stackone.get(f"{API}/accounts", json=[account("acc-seen", owner="org-9")])
    now = time.time()
    svc.connections.ledger.schedule(PASS, RECONCILE, now - 1)
    with app.app_context():
        assert svc.run_due(now, passes=True)["passes_started"] == 1  # the tick returns at once
    for thread in [t for t in threading.enumerate() if t.name == "reconcile-pass"]:
        thread.join(30)
    assert svc.connections.ledger.owner_accounts("org-9") == ["acc-seen"]
    assert svc.connections.ledger.claim(now + 590, 10, {PASS: 1}) == []  # next due an interval later
    assert [c.id for c in svc.connections.ledger.claim(time.time() + 601, 10, {PASS: 1})] == [RECONCILE]
