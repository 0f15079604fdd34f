"""Minting safe to retry across a fleet, for real: two gunicorn hosts on one redis-server in front of the sandbox.
One Idempotency-Key sent 50 times at once makes one session; 20 creates at once at cap - 1 make one; two creates at a
cap of 1 make one when StackOne is so slow that the owner's lock is held past its lease."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import pytest
import requests

from tests.e2e_processes import free_port, gunicorn_hosts, running_sandbox
from tests.helpers import login

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.minting_fleet_0123456789"
URL = "/stackone_connect_sessions"


@contextmanager
def running_fleet(folder, **settings: str):
    """Sandbox, a redis-server, and two gunicorn masters (2 workers each) sharing it, on free loopback ports; yields
    the two hosts' URLs and the sandbox's. `settings` adds to (or replaces) the hosts' environment."""
    from support.redis_server import RedisServer

    store = RedisServer(folder)
    store.start()
    try:
        with running_sandbox(folder, KEY) as sandbox_url, gunicorn_hosts(
                folder, (free_port(), free_port()), key=KEY, sandbox_url=sandbox_url, **{
                    "REDIS_URL": store.url, "OWNER_RATE_LIMIT": "", "ACCOUNT_LIMITS": "hibob=2", "LOG_FORMAT": "text",
                    **settings}) as hosts:
            yield [host.url for host in hosts], sandbox_url
    finally:
        store.stop()


@pytest.fixture(scope="module")
def fleet_folder(tmp_path_factory):
    """Where the fleet keeps its logs."""
    return tmp_path_factory.mktemp("minting-fleet")


@pytest.fixture(scope="module")
def fleet(fleet_folder):
    """The fleet with a cap of two hibob accounts per owner."""
    with running_fleet(fleet_folder) as running:
        yield running


def owner(org: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {login(org_id=org, org_name=org.title())}"}


def sessions_minted(sandbox: str) -> int:
    return requests.get(f"{sandbox}/sandbox/calls", timeout=5).json().count("POST /connect_sessions")


def test_the_fleet_says_once_that_its_redis_keeps_no_persistence(fleet, fleet_folder):
    # Two hosts of two workers start on a redis-server without AOF or RDB: one line for the whole start.
    def warnings():
        return [line for log in fleet_folder.glob("gunicorn-*.log") for line in log.read_text().splitlines()
                if "Redis may lose queued events: persistence is off" in line]

    deadline = time.monotonic() + 15
    while not warnings() and time.monotonic() < deadline:
        time.sleep(0.1)  # the check runs beside the first worker's start
    assert len(warnings()) == 1 and "WARNING" in warnings()[0]


def test_fifty_identical_requests_with_one_key_make_one_session_and_fifty_identical_answers(fleet):
    hosts, sandbox = fleet
    before = sessions_minted(sandbox)
    headers = {**owner("org-idem"), "Idempotency-Key": "checkout-7f3a"}

    def send(n):
        return requests.post(f"{hosts[n % 2]}{URL}", json={"provider": "bamboohr"}, headers=headers, timeout=20)

    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(send, range(50)))
    assert [a.status_code for a in answers] == [200] * 50
    assert len({a.content for a in answers}) == 1
    assert sessions_minted(sandbox) == before + 1
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 49

    reused = requests.post(f"{hosts[0]}{URL}", json={"provider": "hibob"}, headers=headers, timeout=10)
    assert (reused.status_code, reused.json()["code"]) == (422, "idempotency_key_reused")
    theirs = requests.post(f"{hosts[1]}{URL}", json={"provider": "bamboohr"}, timeout=10,
                           headers={**owner("org-other"), "Idempotency-Key": "checkout-7f3a"})
    assert theirs.status_code == 200 and theirs.json()["token"] != answers[0].json()["token"]
    assert sessions_minted(sandbox) == before + 2


def test_twenty_creates_at_once_at_cap_minus_one_across_two_hosts_make_one_session(fleet):
    hosts, sandbox = fleet
    headers = owner("org-capped")
    # One hibob account already (the cap is 2): connect it through the sandbox's hub.
    first = requests.post(f"{hosts[0]}{URL}", json={"provider": "hibob"}, headers=headers, timeout=10).json()
    assert requests.post(f"{sandbox}/sandbox/complete", json={"token": first["token"]}, timeout=5).status_code == 200
    before = sessions_minted(sandbox)

    def send(n):
        # Each tab adds another hibob account with its own label: distinct requests, all creates at N-1.
        return requests.post(f"{hosts[n % 2]}{URL}", json={"provider": "hibob", "multiple": True, "label": f"tab {n}"},
                             headers=headers, timeout=20)

    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(send, range(20)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [409] * 19, statuses
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"account_limit"}
    assert sessions_minted(sandbox) == before + 1


def test_two_creates_on_two_hosts_at_a_cap_of_one_make_one_session_when_the_hold_outlasts_the_lease(
        tmp_path_factory):
    # STACKONE_TIMEOUT=30 and a sandbox taking 8 s a call: the first create holds the owner's lock through two calls
    # (16 s). A lock that lapsed after its lease (state.lock.LEASE_SECONDS) would let the second host read the
    # reservations (after its own 8 s list) before the first stores its own, and both creates would pass a cap of
    # 1, as they did with a fixed 30 s lifetime and a longer hold. Only renewal keeps the second host out.
    from state.lock import LEASE_SECONDS

    latency = 8.0
    assert LEASE_SECONDS + latency < 2 * latency
    with running_fleet(tmp_path_factory.mktemp("lock-fleet"), STACKONE_TIMEOUT="30", REQUEST_DEADLINE="45",
                       ACCOUNT_LIMITS="hibob=1") as (hosts, sandbox):
        headers = owner("org-race")
        # Another owner's mint first, at full speed: the connector list is then cached for both hosts.
        assert requests.post(f"{hosts[0]}{URL}", json={"provider": "bamboohr"}, headers=owner("org-warm"),
                             timeout=10).status_code == 200
        before = sessions_minted(sandbox)
        requests.post(f"{sandbox}/sandbox/latency", json={"seconds": latency}, timeout=5).raise_for_status()

        def send(n):
            return requests.post(f"{hosts[n]}{URL}", json={"provider": "hibob", "label": f"host {n}"},
                                 headers=headers, timeout=60)

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(send, range(2)))
        requests.post(f"{sandbox}/sandbox/latency", json={"seconds": 0}, timeout=5)
        assert sorted(a.status_code for a in answers) == [200, 409], [a.text for a in answers]
        assert sessions_minted(sandbox) == before + 1
