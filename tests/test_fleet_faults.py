"""Events across a fleet where it breaks: two gunicorn hosts on one real redis-server, StackOne played by the test
(signed webhooks, delivered again until acknowledged, as StackOne does) over the sandbox's accounts, and a receiver
verifying every delivery. Redis paused with SIGSTOP again and again, then workers killed with kill -9 mid-send: every
account is announced, none with two different webhook-ids. No reconcile pass runs: nothing is repaired behind the
test's back."""

from __future__ import annotations

import base64
import json
import os
import secrets
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests

from tests.app_receiver import Receiver
from tests.e2e_processes import free_port, gunicorn_hosts, running_sandbox, sandbox_accounts
from tests.helpers import stackone_signature

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.faults_key_0123456789"
STACKONE_SECRET = "whsec_faults_stackone_0123456789"
APP_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    """A redis-server, the sandbox, a slow receiver and two gunicorn hosts (2 workers each) on free loopback ports."""
    from support.redis_server import RedisServer

    folder = tmp_path_factory.mktemp("fleet-faults")
    store = RedisServer(folder)
    store.start()
    receiver = Receiver(APP_SECRET, delay=0.05)
    try:
        with running_sandbox(folder, KEY) as sandbox_url, gunicorn_hosts(
                folder, (free_port(), free_port()), key=KEY, sandbox_url=sandbox_url, REDIS_URL=store.url,
                REDIS_TIMEOUT="0.3", STACKONE_WEBHOOK_SECRETS=STACKONE_SECRET, APP_WEBHOOK_URL=receiver.url,
                APP_WEBHOOK_SECRET=APP_SECRET, APP_WEBHOOK_TIMEOUT="2", STACKONE_TIMEOUT="2", REQUEST_DEADLINE="3",
                RECONCILE_INTERVAL="0", OWNER_RATE_LIMIT="", LOG_FORMAT="json", CONNECTIONS_SWEEP_SECONDS="0.3",
                WEB_CONCURRENCY="2") as hosts:
            yield [host.url for host in hosts], [host.process for host in hosts], sandbox_url, store, receiver
    finally:
        store.stop()
        receiver.shutdown()


def seeded(sandbox: str, count: int, owners: int) -> list[dict]:
    """Accounts made at StackOne that the service has not heard of yet."""
    before = {a["id"] for a in sandbox_accounts(sandbox, KEY)}
    requests.post(f"{sandbox}/sandbox/accounts", json={"count": count, "owners": owners}, timeout=30)
    return [a for a in sandbox_accounts(sandbox, KEY) if a["id"] not in before]


def account_created(account: dict) -> bytes:
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    return json.dumps({"event": "account.created", "record_type": "account", "record_id": account["id"],
                       "account_id": account["id"], "origin_owner_id": account["origin_owner_id"],
                       "provider": account["provider"], "event_date": account["created_at"], "sent_at": now}).encode()


def stackone_delivers(hosts: list[str], bodies: list[bytes], seconds: float) -> int:
    """Each body POSTed (alternating hosts) until a host acknowledges it with a 2xx; returns how many tries it took."""
    deadline, tries = time.monotonic() + seconds, 0

    def until_acknowledged(n: int) -> None:
        nonlocal tries
        while time.monotonic() < deadline:
            tries += 1
            try:
                answer = requests.post(f"{hosts[tries % 2]}/stackone_webhooks", data=bodies[n], timeout=5, headers={
                    "Content-Type": "application/json",
                    "x-stackone-signature": stackone_signature(STACKONE_SECRET, bodies[n])})
                if 200 <= answer.status_code < 300:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)  # StackOne's retry comes later
        raise AssertionError("a webhook was never acknowledged")

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(until_acknowledged, range(len(bodies))))
    return tries


def announced_once_each(receiver: Receiver, accounts: list[dict], seconds: float) -> bool:
    """Every account has its connection.created at the receiver, all deliveries of it under one webhook-id."""
    wanted = {a["id"] for a in accounts}
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        ids: dict[str, set[str]] = {}
        for payload, webhook_id in zip(list(receiver.verified), list(receiver.ids), strict=False):
            if payload["type"] == "connection.created" and payload["data"]["accountId"] in wanted:
                ids.setdefault(payload["data"]["accountId"], set()).add(webhook_id)
        if set(ids) == wanted:
            assert all(len(v) == 1 for v in ids.values()), "an event was sent twice under two ids"
            return True
        time.sleep(0.3)
    missing = wanted - set(ids)
    raise AssertionError(f"{len(missing)} of {len(wanted)} accounts never announced")


def test_redis_paused_again_and_again_loses_no_event(fleet):
    hosts, _, sandbox, store, receiver = fleet
    accounts = seeded(sandbox, 120, 60)
    stop_pausing = threading.Event()

    def pause_redis():
        while not stop_pausing.is_set():
            os.kill(store.process.pid, signal.SIGSTOP)
            time.sleep(1.5)
            os.kill(store.process.pid, signal.SIGCONT)
            stop_pausing.wait(2.5)

    pauser = threading.Thread(target=pause_redis)
    pauser.start()
    try:
        tries = stackone_delivers(hosts, [account_created(a) for a in accounts], seconds=120)
    finally:
        stop_pausing.set()
        pauser.join()
        os.kill(store.process.pid, signal.SIGCONT)
    assert tries > len(accounts)  # the pauses were felt: some deliveries were refused and came again
    assert announced_once_each(receiver, accounts, seconds=60)


def workers_of(master: subprocess.Popen) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(master.pid)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


def test_workers_killed_mid_send_lose_no_event(fleet):
    hosts, masters, sandbox, _, receiver = fleet
    receiver.delay = 1.0  # each send takes a second: the kills land while sends are in flight
    try:
        accounts = seeded(sandbox, 40, 20)
        arrived = receiver.arrived
        stackone_delivers(hosts, [account_created(a) for a in accounts], seconds=60)
        # The workers have claimed events and are sending them: one has reached the receiver (which takes 1 s).
        deadline = time.monotonic() + 10
        while receiver.arrived == arrived and time.monotonic() < deadline:
            time.sleep(0.05)
        assert receiver.arrived > arrived
        for master in masters:
            for pid in workers_of(master):
                os.kill(pid, signal.SIGKILL)
    finally:
        receiver.delay = 0.05
    # gunicorn starts new workers; what the dead ones held is claimed again once their leases end (~15 s here).
    assert announced_once_each(receiver, accounts, seconds=90)
