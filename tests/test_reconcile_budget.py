"""A reconcile pass against a sandbox that plays StackOne's rate limit (429 with Retry-After past N calls in a
window): paced by STACKONE_RATE_LIMIT it meets no 429 at all; one that meets a 429 part way stops and infers no
deletion. The sandbox as a process, the pass as the operator's `flask reconcile`."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from connections.ledger_sqlite import SqliteLedger
from tests.e2e_processes import ROOT, clean_environment, free_port, running_sandbox
from tests.helpers import JWT_SECRET

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.reconcile_budget_0123"
ACCOUNTS = 300


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """The sandbox with a project of ACCOUNTS accounts the service never saw."""
    with running_sandbox(tmp_path_factory.mktemp("reconcile-budget"), KEY) as url:
        seeded = requests.post(f"{url}/sandbox/accounts", json={"count": ACCOUNTS, "owners": 100}, timeout=30)
        assert seeded.status_code == 201
        yield url


def settings(sandbox: str, **changes) -> dict:
    """Change the sandbox's settings; its answer (with `rate_limited`, the 429s it has answered so far)."""
    answer = requests.post(f"{sandbox}/sandbox/settings", json=changes, timeout=5)
    answer.raise_for_status()
    return answer.json()


def reconcile(sandbox: str, state_dir: str, rate: str, share: str = "0.2") -> subprocess.CompletedProcess:
    """The operator's whole-project pass, as its own process (background work in StackOne's budget)."""
    env = {"STACKONE_API_KEY": KEY, "STACKONE_API_URL": sandbox, "OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": JWT_SECRET,
           "STATE_DIR": state_dir, "APP_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/events",
           "APP_WEBHOOK_SECRET": "whsec_" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=",
           "RECONCILE_INTERVAL": "0", "STACKONE_RATE_LIMIT": rate, "STACKONE_BACKGROUND_SHARE": share,
           "PATH": os.environ.get("PATH", "/usr/bin")}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", "reconcile"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**clean_environment(), **env})


def accounts_calls(sandbox: str) -> int:
    return requests.get(f"{sandbox}/sandbox/calls", timeout=5).json().count("GET /accounts")


def test_a_pass_paced_by_stackone_rate_limit_meets_no_429(sandbox, tmp_path):
    # StackOne here allows 10 calls in any 2 s; the service's budget is the same (STACKONE_RATE_LIMIT=10/2second)
    # and background work spends at most 40% of it. Pages of 25: the pass needs 13 calls, more than one window allows.
    refused_before = settings(sandbox, max_page_size=25, rate_limit_per_minute=10,
                              rate_limit_window_seconds=2)["rate_limited"]
    try:
        before = accounts_calls(sandbox)
        done = reconcile(sandbox, str(tmp_path / "state"), "10/2second", share="0.4")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["applied"] == ACCOUNTS
        calls = accounts_calls(sandbox) - before
        assert calls == ACCOUNTS // 25 + 1 > 10  # the last full page, then an empty one ends the list
        assert settings(sandbox)["rate_limited"] == refused_before  # not one 429
    finally:
        settings(sandbox, max_page_size=0, rate_limit_per_minute=0, rate_limit_window_seconds=60)


def test_a_pass_that_meets_a_429_part_way_infers_no_deletion(sandbox, tmp_path):
    state_dir = str(tmp_path / "state")
    first = reconcile(sandbox, state_dir, "1000000/minute")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["applied"] == ACCOUNTS
    ledger = SqliteLedger(state_dir)
    queued_before = set(ledger.queued_ids(10_000))
    # Now StackOne allows 4 calls a minute and the service's own budget does not know it: pages of 25, so the 5th
    # page (accounts 101 to 125) is answered 429 and the rest of the list is never read.
    refused_before = settings(sandbox, max_page_size=25, rate_limit_per_minute=4)["rate_limited"]
    try:
        throttled = reconcile(sandbox, state_dir, "1000000/minute")
        assert settings(sandbox)["rate_limited"] > refused_before
    finally:
        settings(sandbox, max_page_size=0, rate_limit_per_minute=0)
    assert throttled.returncode != 0 and "upstream_busy" in throttled.stderr
    # Every account is still known, and no connection.deleted (or any other event) was queued by the cut pass.
    assert len(list(ledger.known_accounts())) == ACCOUNTS
    assert set(ledger.queued_ids(10_000)) == queued_before
