"""Events to the customer's app, for real: gunicorn and the sandbox as processes, StackOne's webhooks flowing, and a
local receiver that verifies every delivery with the `standardwebhooks` library. Offboarding through the CLI with a
StackOne failure on the third delete, and its HTTP form for the operator's token only."""

from __future__ import annotations

import base64
import json
import os
import secrets
import subprocess
import sys
import time
from contextlib import contextmanager

import pytest
import requests

from connections.ledger_sqlite import SqliteLedger
from tests.app_receiver import Receiver
from tests.e2e_processes import ROOT, clean_environment, free_port, gunicorn_stack, running_sandbox, sandbox_accounts
from tests.helpers import JWT_SECRET, login

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.events_key_0123456789"
STACKONE_SECRET = "whsec_events_stackone_0123456789"
APP_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
ADMIN_TOKEN = secrets.token_urlsafe(32)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    folder = tmp_path_factory.mktemp("events")
    receiver = Receiver(APP_SECRET)
    port = free_port()  # the sandbox delivers StackOne's webhooks there
    try:
        with running_sandbox(folder, KEY, SANDBOX_WEBHOOK_SECRET=STACKONE_SECRET,
                             SANDBOX_WEBHOOK_URL=f"http://127.0.0.1:{port}/stackone_webhooks") as sandbox_url:
            # What `flask` commands below are run with too.
            env = {"STACKONE_API_KEY": KEY, "STACKONE_API_URL": sandbox_url, "OWNER_AUTH": "jwt",
                   "OWNER_JWT_SECRET": JWT_SECRET, "STACKONE_HUB_URL": f"{sandbox_url}/embedded/integrations",
                   "STACKONE_WEBHOOK_SECRETS": STACKONE_SECRET, "STATE_DIR": str(folder / "state"),
                   "APP_WEBHOOK_URL": receiver.url,
                   "APP_WEBHOOK_SECRET": APP_SECRET, "ADMIN_TOKEN": ADMIN_TOKEN, "RECONCILE_INTERVAL": "0",
                   "OWNER_RATE_LIMIT": "", "LOG_FORMAT": "json"}
            with gunicorn_stack(folder, key=KEY, port=port, sandbox_url=sandbox_url, **env,
                                CONNECTIONS_SWEEP_SECONDS="0.3") as stack:
                yield stack.url, sandbox_url, receiver, env, stack.log
    finally:
        receiver.shutdown()


def headers_for(org: str, email: str = "ann@acme.test") -> dict[str, str]:
    return {"Authorization": f"Bearer {login(org_id=org, org_name=org.title(), email=email)}"}


def connect(service: str, sandbox: str, org: str, email: str = "ann@acme.test", **body) -> str:
    minted = requests.post(f"{service}/stackone_connect_sessions", json={"provider": "hibob", **body},
                           headers=headers_for(org, email), timeout=10).json()
    done = requests.post(f"{sandbox}/sandbox/complete", json={"token": minted["token"]}, timeout=10).json()
    return done["account"]["id"]


def wait_for(check, seconds: float = 10.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    return check()


def all_delivered(env: dict) -> bool:
    """Nothing waits in the service's event queue: every event queued so far has reached the receiver."""
    return not SqliteLedger(env["STATE_DIR"]).backlog()


@contextmanager
def webhooks_lost(sandbox: str):
    """StackOne's account.* webhooks never arrive meanwhile: accounts the service has never seen."""
    requests.post(f"{sandbox}/sandbox/settings", json={"webhooks": False}, timeout=5).raise_for_status()
    try:
        yield
    finally:
        requests.post(f"{sandbox}/sandbox/settings", json={"webhooks": True}, timeout=5).raise_for_status()


def break_account(sandbox: str, account_id: str) -> None:
    requests.post(f"{sandbox}/sandbox/accounts/{account_id}/status", timeout=5, json={
        "status": "error", "reasons": [{"code": "invalid_credentials", "description": "The API key was revoked"}]})


def test_a_broken_account_gets_one_signed_event_with_a_link_that_reconnects_it(stack):
    service, sandbox, receiver, env, log = stack
    account_id = connect(service, sandbox, "org-events", email="carol@events.test")
    assert wait_for(lambda: receiver.of("connection.created", account_id))
    break_account(sandbox, account_id)
    broken = wait_for(lambda: receiver.of("connection.broken", account_id))
    assert len(broken) == 1
    data = broken[0]["data"]
    assert (data["ownerId"], data["status"], data["reason"]) == (
        "org-events", "error", {"code": "invalid_credentials", "description": "The API key was revoked"})
    link = data["reconnect"]
    assert link["expiresIn"] == 432000 and link["expiresAt"].endswith("Z")
    token = link["url"].split("token=", 1)[1]
    # The link opens that very account in edit mode, for that owner.
    session = requests.post(f"{sandbox}/connect_sessions/authenticate", json={"token": token}, auth=(KEY, ""),
                            timeout=5).json()
    assert (session["account_id"], session["origin_owner_id"]) == (account_id, "org-events")
    assert session["origin_username"] == "carol@events.test"  # minted for whoever connected it
    secret_things = json.dumps(broken[0])
    # No StackOne token but the link's, no credentials or setup information, no hub trigger token.
    assert not [leak for leak in ("external_trigger", "ett_", "sandbox-provider-secret", "subdomain", KEY)
                if leak in secret_things]

    break_account(sandbox, account_id)  # StackOne says the same again: no second event
    assert wait_for(lambda: all_delivered(env)) and len(receiver.of("connection.broken", account_id)) == 1

    redone = requests.post(f"{sandbox}/sandbox/complete", json={"token": token}, timeout=10).json()
    assert (redone["event"], redone["account"]["id"]) == ("account.updated", account_id)  # an update, not a create
    repaired = wait_for(lambda: receiver.of("connection.repaired", account_id))
    # After the repair StackOne still says who connected the account.
    assert requests.get(f"{sandbox}/accounts/{account_id}", auth=(KEY, ""), timeout=5).json()[
        "origin_username"] == "carol@events.test"
    assert len(repaired) == 1 and len(set(receiver.ids)) == len(receiver.ids)  # one delivery per event id
    assert receiver.refused == 0
    assert APP_SECRET not in log.read_text() and token not in log.read_text()


def test_other_owners_get_nothing_of_an_owners_changes(stack):
    service, sandbox, receiver, _, _ = stack
    mine = connect(service, sandbox, "org-quiet")
    wait_for(lambda: receiver.of("connection.created", mine))
    for event in receiver.verified:
        account = event["data"]["accountId"]
        owner = requests.get(f"{sandbox}/accounts/{account}", auth=(KEY, ""), timeout=5).json().get("origin_owner_id")
        assert owner in (None, event["data"]["ownerId"])  # every event names its own account's owner


def flask_cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, env={**clean_environment(), **env,
                                                      "PATH": os.environ.get("PATH", "/usr/bin")})


def test_a_410_holds_every_event_until_the_operator_resumes_delivery_and_none_is_lost(stack):
    service, sandbox, receiver, env, log = stack
    assert wait_for(lambda: all_delivered(env))
    receiver.gone = True
    try:
        first = connect(service, sandbox, "org-gone")
        paused = wait_for(lambda: requests.get(f"{service}/readyz", timeout=5).json().get("eventsReason"))
        assert paused and paused.startswith(f"APP_WEBHOOK_URL ({env['APP_WEBHOOK_URL'].rsplit('/', 2)[0]}) "
                                            "answered 410 Gone at ")
        assert requests.get(f"{service}/readyz", timeout=5).status_code == 200  # callers are still served
        second = connect(service, sandbox, "org-gone", multiple=True, label="second")
        queue = SqliteLedger(env["STATE_DIR"])
        assert wait_for(lambda: queue.backlog() == 2)  # queued while paused, and held
        errors = [json.loads(line) for line in log.read_text().splitlines() if "410 Gone: delivery paused" in line]
        assert len(errors) == 1 and errors[0]["level"] == "ERROR" and "/hooks/stackone" not in errors[0]["message"]
        receiver.gone = False  # the customer has a receiver again
        resumed = flask_cli(env, "resume-events")
        assert resumed.returncode == 0 and resumed.stdout.strip() == "delivery resumed: 2 events queued", resumed
        assert wait_for(lambda: receiver.of("connection.created", first) and receiver.of("connection.created",
                                                                                         second))
        assert wait_for(lambda: all_delivered(env))
        assert requests.get(f"{service}/readyz", timeout=5).json() == {"status": "ready"}
        assert receiver.gone_answers == 1  # nothing was sent while paused: only the event that met the 410
    finally:
        receiver.gone = False
        flask_cli(env, "resume-events")


def test_offboarding_after_a_failed_delete_finishes_on_the_rerun_and_spares_other_owners(stack):
    service, sandbox, receiver, env, _ = stack
    leaving = [connect(service, sandbox, "org-leaving", multiple=True, label=f"office {n}") for n in range(4)]
    staying = connect(service, sandbox, "org-staying")
    dry = flask_cli(env, "offboard", "--owner-id", "org-leaving", "--dry-run")
    assert dry.returncode == 0 and dry.stdout.count("would delete") == 4, dry.stderr
    assert dry.stdout.strip().splitlines()[-1] == "owner org-leaving: 4 would be deleted (dry run: nothing deleted)"
    dry_audit = [json.loads(line) for line in dry.stderr.splitlines() if '"offboard_summary"' in line]
    assert [(a["dry_run"], a["would_delete"], a["deleted"]) for a in dry_audit] == [(True, 4, 0)]
    third = leaving[2]
    requests.post(f"{sandbox}/sandbox/faults", json={"status": 502, "method": "DELETE", "path": f"/accounts/{third}"},
                  timeout=5)
    first = flask_cli(env, "offboard", "--owner-id", "org-leaving")
    assert first.returncode == 1 and f"failed {third}" in first.stdout and "3 deleted" in first.stdout, first.stdout
    rerun = flask_cli(env, "offboard", "--owner-id", "org-leaving")
    assert rerun.returncode == 0 and rerun.stdout.strip().splitlines() == [
        f"deleted {third}", "owner org-leaving: 1 deleted, 0 already gone, 0 failed"], rerun.stdout
    again = flask_cli(env, "offboard", "--owner-id", "org-leaving")
    assert again.returncode == 0 and again.stdout.strip() == "owner org-leaving: 0 deleted, 0 already gone, 0 failed"
    left = requests.get(f"{sandbox}/accounts", params={"origin_owner_ids": ["org-leaving", "org-staying"]},
                        auth=(KEY, ""), timeout=5).json()
    assert [a["id"] for a in left] == [staying]
    audit = [json.loads(line) for line in (first.stdout + first.stderr + rerun.stderr).splitlines()
             if line.startswith("{") and '"audit"' in line]
    assert sorted(a["account_id"] for a in audit if a["audit"] == "account_offboarded") == sorted(leaving)
    # Each account announced once across the failed run, its rerun and the run with nothing left.
    assert wait_for(lambda: all_delivered(env))
    for n, account_id in enumerate(leaving):
        assert [e["data"] for e in receiver.of("connection.deleted", account_id)] == [{
            "accountId": account_id, "ownerId": "org-leaving", "provider": "hibob", "label": f"office {n}",
            "status": "deleted"}]


def test_the_http_form_of_offboarding_takes_the_operators_token_and_never_an_owners_login(stack):
    service, sandbox, _, _, log = stack
    kept = connect(service, sandbox, "org-admin-check")
    url = f"{service}/admin/offboard"
    owner_login = requests.post(url, json={"ownerId": "org-admin-check"}, headers=headers_for("org-admin-check"),
                                timeout=10)
    assert (owner_login.status_code, owner_login.json()["code"]) == (401, "unauthorized")
    listed = requests.post(url, json={"ownerId": "org-admin-check", "dryRun": True}, timeout=10,
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert listed.status_code == 200 and listed.json() == {
        "ownerId": "org-admin-check", "dryRun": True, "deleted": [], "wouldDelete": [kept], "alreadyGone": [],
        "failed": [], "complete": True}
    assert requests.get(f"{sandbox}/accounts/{kept}", auth=(KEY, ""), timeout=5).status_code == 200
    summary = [json.loads(line) for line in log.read_text().splitlines()
               if '"offboard_summary"' in line and '"org-admin-check"' in line]
    assert [(a["dry_run"], a["would_delete"], a["deleted"]) for a in summary] == [(True, 1, 0)]


@pytest.mark.parametrize("dry_run", ["false", "true", 0, 1, None, []])
def test_offboarding_over_http_takes_dry_run_as_a_json_boolean_only(stack, dry_run):
    service, sandbox, _, _, _ = stack
    kept = connect(service, sandbox, "org-dry-typed")
    answer = requests.post(f"{service}/admin/offboard", json={"ownerId": "org-dry-typed", "dryRun": dry_run},
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10)
    assert (answer.status_code, answer.json()["code"]) == (422, "validation_error")
    assert list(answer.json()["errors"]) == ["dryRun"]
    assert requests.get(f"{sandbox}/accounts/{kept}", auth=(KEY, ""), timeout=5).status_code == 200


def offboard_or_disconnect(via: str, service: str, env: dict, owner: str, accounts: list[str]) -> None:
    """Delete the owner's accounts the way an operator (CLI, HTTP) or the owner's own page (disconnect) does."""
    if via == "cli":
        done = flask_cli(env, "offboard", "--owner-id", owner)
        assert done.returncode == 0 and f"{len(accounts)} deleted" in done.stdout, done.stdout + done.stderr
    elif via == "http":
        done = requests.post(f"{service}/admin/offboard", json={"ownerId": owner}, timeout=30,
                             headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        assert done.status_code == 200 and sorted(done.json()["deleted"]) == sorted(accounts), done.text
    else:
        for account_id in accounts:
            gone = requests.delete(f"{service}/stackone_accounts/{account_id}", headers=headers_for(owner), timeout=10)
            assert gone.status_code == 204, gone.text


@pytest.mark.parametrize("via", ["disconnect", "cli", "http"])
def test_every_deletion_is_announced_once_with_the_account_as_it_was_seen_here_or_not(stack, via):
    service, sandbox, receiver, env, _ = stack
    owner = f"org-gone-{via}"
    seen = connect(service, sandbox, owner, label="head office")
    assert wait_for(lambda: receiver.of("connection.created", seen))
    with webhooks_lost(sandbox):
        unseen = connect(service, sandbox, owner, multiple=True, label="branch")
    # StackOne's account.deleted webhooks arrive again: the seen account's, and one for the account never seen.
    offboard_or_disconnect(via, service, env, owner, [seen, unseen])
    if via != "disconnect":
        offboard_or_disconnect(via, service, env, owner, [])  # the rerun finds nothing, announces nothing
    assert wait_for(lambda: all_delivered(env))
    for account_id, label in ((seen, "head office"), (unseen, "branch")):
        assert [e["data"] for e in receiver.of("connection.deleted", account_id)] == [{
            "accountId": account_id, "ownerId": owner, "provider": "hibob", "label": label, "status": "deleted"}]
    assert not receiver.of("connection.created", unseen)  # announced gone, never as new
    assert receiver.refused == 0


def accounts_calls(sandbox: str) -> int:
    return requests.get(f"{sandbox}/sandbox/calls", timeout=5).json().count("GET /accounts")


def test_a_reconcile_pass_reads_the_whole_project_in_pages_and_announces_each_unseen_account_once(stack):
    service, sandbox, receiver, env, _ = stack
    assert wait_for(lambda: all_delivered(env))
    # StackOne may serve fewer than asked (its largest page is not documented): here 40 of the 100 asked.
    requests.post(f"{sandbox}/sandbox/settings", json={"max_page_size": 40}, timeout=5).raise_for_status()
    try:
        seeded = requests.post(f"{sandbox}/sandbox/accounts", json={"count": 500, "owners": 180}, timeout=30)
        assert seeded.status_code == 201
        everything = sandbox_accounts(sandbox, KEY)
        seeds = {a["id"] for a in everything if a["origin_owner_id"].startswith("seed-org-")}
        assert len(seeds) == 500
        before = accounts_calls(sandbox)
        first = flask_cli(env, "reconcile")
        assert first.returncode == 0, first.stderr
        # The whole project in pages of 40, not one call per owner; a last page of 25 or more (StackOne's default
        # page, which any cap allows) may not be the last, so an empty page ends the pass.
        pages, tail = -(-len(everything) // 40), len(everything) % 40
        assert accounts_calls(sandbox) - before == pages + (tail == 0 or tail >= 25)
        assert wait_for(lambda: all_delivered(env), 30)
        created = [e["data"]["accountId"] for e in receiver.verified if e["type"] == "connection.created"
                   and e["data"]["accountId"] in seeds]
        assert sorted(created) == sorted(seeds)  # each announced, once
        again = flask_cli(env, "reconcile")
        assert again.returncode == 0 and json.loads(again.stdout)["applied"] == 0  # nothing new to say
    finally:
        requests.post(f"{sandbox}/sandbox/settings", json={"max_page_size": 0}, timeout=5).raise_for_status()
