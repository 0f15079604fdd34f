"""Connection state in plain Python: the events each change makes, order, reminders on a frozen clock, and a property
test that shuffled, repeated and lost account events leave, after one reconcile, exactly StackOne's view."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connections.changes import BROKE, CREATED, DELETED, REPAIRED, Observation, events_for
from connections.monitor import ConnectionMonitor
from connections.outbox import Outbox, backoff
from connections.store import ConnectionStore
from domain.accounts import Account
from state import open_sqlite_state


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
    store = ConnectionStore(open_sqlite_state(str(tmp_path / "state")))
    return ConnectionMonitor(store, Outbox(store._state, store.locked), client=truth or StackOneAccounts(),
                             sending=True, reminder_seconds=24 * 3600, clock=clock or Clock())


def queued(monitor) -> list[tuple[str, str]]:
    out = []
    for event_id in monitor.outbox.pending_ids():
        event = monitor.outbox.entry(event_id)["event"]
        out.append((event["type"], event["data"]["accountId"]))
    return sorted(out)


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
    before = len(monitor.outbox.pending_ids())
    fired = []
    for hours in (1, 23.9, 24, 24.5, 47.9, 48, 60):
        clock.now = 1_000_000.0 + hours * 3600
        fired.append(monitor.remind_due())
    assert fired == [0, 0, 1, 0, 0, 1, 0]
    assert len(monitor.outbox.pending_ids()) == before + 2
    monitor.apply(ACTIVE, (clock.now, 2), "webhook")
    clock.now += 5 * 24 * 3600
    assert monitor.remind_due() == 0
    reminders = [monitor.outbox.entry(i)["event"] for i in monitor.outbox.pending_ids()]
    assert sum(e["data"].get("reminder") is True for e in reminders) == 2


def test_the_delivery_backoff_grows_and_is_bounded():
    assert [backoff(n) for n in (1, 2, 3)] == [5.0, 10.0, 20.0] and backoff(30) == 3600.0


def test_a_failed_delivery_is_retried_after_its_backoff_and_given_up_after_the_last_attempt(tmp_path):
    from connections.outbox import MAX_ATTEMPTS

    monitor = monitor_on(tmp_path)
    monitor.apply(ACTIVE, (1.0, 1), "webhook")
    sent = []

    def failing(event):
        sent.append(event["id"])
        raise ConnectionError("down")

    now = 0.0
    counts = [monitor.outbox.deliver_due(failing, now=now)]
    counts.append(monitor.outbox.deliver_due(failing, now=now + 1))  # not due yet: nothing sent
    for attempt in range(1, MAX_ATTEMPTS):
        now += backoff(attempt)
        counts.append(monitor.outbox.deliver_due(failing, now=now))
    assert len(sent) == MAX_ATTEMPTS and len(set(sent)) == 1  # the same event (same id) every time
    assert counts[1] == {"delivered": 0, "retry": 0, "failed": 0} and counts[-1]["failed"] == 1
    assert monitor.outbox.pending_ids() == []


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
        record = monitor.store.record(account_id)
        expected = truth.accounts.get(account_id)
        if expected is None:
            assert record is None or record["deleted"], (account_id, record)
        else:
            assert (record["status"], record["owner_id"], record["deleted"]) == (expected.status, owner, False)
    # Other owners' accounts never appear under an owner.
    for owner in monitor.store.owners():
        assert all(history[a][0] == owner for a in monitor.store.owner_accounts(owner))
