"""gunicorn and the StackOne sandbox as real processes on loopback: create, update and multiple over HTTP."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from tests.e2e_processes import ROOT, free_port, gunicorn_stack
from tests.helpers import JWT_SECRET, login

pytestmark = pytest.mark.e2e
SANDBOX_KEY = "v1.sandbox.e2e_key_0123456789"
WEBHOOK_SECRET = "whsec_e2e_0123456789abcdef"
PAGE = "http://127.0.0.1:5999"  # a page on another port of the same host


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The sandbox and gunicorn (2 workers) on free loopback ports; the sandbox signs and delivers account webhooks.

    Account lookups are cached for 60 s (the default once webhook secrets are set), so every "update" after a hub
    completion below is only right if the webhook reached whichever worker answers next.
    """
    with gunicorn_stack(tmp_path_factory.mktemp("e2e"), key=SANDBOX_KEY, sandbox_webhook_secret=WEBHOOK_SECRET,
                        GUNICORN_THREADS="4", STACKONE_WEBHOOK_SECRETS=WEBHOOK_SECRET,
                        CORS_ALLOWED_ORIGINS=PAGE) as stack:
        yield stack.url, stack.sandbox_url, stack.folder


def connect(service_url, body, org="org-e2e"):
    return requests.post(f"{service_url}/stackone_connect_sessions", json=body, timeout=10,
                         headers={"Authorization": f"Bearer {login(org_id=org, org_name='E2E Ltd')}"})


def finish_in_hub(sandbox_url, token):
    """What the user does in the hub: the sandbox applies StackOne's rules and returns the account."""
    answer = requests.post(f"{sandbox_url}/sandbox/complete", json={"token": token}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_create_then_update_then_multiple(stack):
    service_url, sandbox_url, _ = stack
    first = connect(service_url, {"provider": "bamboohr"})
    assert first.status_code == 200 and first.json()["action"] == "create"
    created = finish_in_hub(sandbox_url, first.json()["token"])
    assert created["event"] == "account.created"
    account_id = created["account"]["id"]

    again = connect(service_url, {"provider": "bamboohr"}).json()
    assert (again["action"], again["accountId"]) == ("update", account_id)
    assert finish_in_hub(sandbox_url, again["token"])["event"] == "account.updated"

    beside = connect(service_url, {"provider": "bamboohr", "multiple": True, "label": "EU"}).json()
    assert beside["action"] == "multiple"
    second_id = finish_in_hub(sandbox_url, beside["token"])["account"]["id"]
    assert second_id != account_id

    ambiguous = connect(service_url, {"provider": "bamboohr"})
    assert ambiguous.status_code == 409
    assert {c["id"] for c in ambiguous.json()["candidates"]} == {account_id, second_id}

    picked = connect(service_url, {"accountId": second_id}).json()
    assert (picked["action"], picked["accountId"], picked["provider"]) == ("update", second_id, "bamboohr")

    stranger = connect(service_url, {"accountId": second_id}, org="org-other")
    assert (stranger.status_code, stranger.json()["code"]) == (404, "account_not_found")


def test_auth_link_and_the_owners_accounts(stack):
    service_url, sandbox_url, _ = stack
    headers = {"Authorization": f"Bearer {login(org_id='org-links', org_name='Links Ltd')}"}
    link = requests.post(f"{service_url}/stackone_auth_links", json={"provider": "hibob"}, headers=headers, timeout=10)
    assert link.status_code == 200 and link.json()["expiresIn"] == 432000
    hub_page = requests.get(link.json()["url"], timeout=5)  # what the receiver opens
    assert hub_page.status_code == 200 and "Links Ltd" in hub_page.text
    finish_in_hub(sandbox_url, link.json()["token"])

    listed = requests.get(f"{service_url}/stackone_accounts", headers=headers, timeout=10)
    assert listed.status_code == 200
    data = listed.json()["data"]
    assert [(a["provider"], a["status"]) for a in data] == [("hibob", "active")]
    assert "credentials" not in listed.text and "sandbox-provider-secret" not in listed.text
    again = requests.post(f"{service_url}/stackone_auth_links", json={"provider": "hibob"}, headers=headers, timeout=10)
    assert (again.json()["action"], again.json()["accountId"]) == ("update", data[0]["id"])


def test_forged_webhook_is_refused(stack):
    service_url, _, logs = stack
    body = b'{"event": "account.deleted", "account_id": "x", "origin_owner_id": "org-e2e"}'
    forged = requests.post(f"{service_url}/stackone_webhooks", data=body, timeout=5,
                           headers={"Content-Type": "application/json", "x-stackone-signature": "forged"})
    assert (forged.status_code, forged.json()["code"]) == (401, "invalid_signature")


def test_refusals_send_nothing_to_stackone(stack):
    service_url, sandbox_url, _ = stack
    before = requests.get(f"{sandbox_url}/sandbox/calls", timeout=5).json()
    refused = [
        connect(service_url, {"provider": "bamboohr", "origin_owner_id": "org-victim"}),
        connect(service_url, {"provider": "bamboohr", "multiple": "yes"}),
        requests.post(f"{service_url}/stackone_connect_sessions", json={}, timeout=5),
        requests.post(f"{service_url}/stackone_connect_sessions", data="{", timeout=5,
                      headers={"Content-Type": "application/json",
                               "Authorization": f"Bearer {login()}"}),
    ]
    assert [r.status_code for r in refused] == [400, 422, 401, 400]
    assert all(r.headers["Content-Type"] == "application/problem+json" and r.headers["X-Request-ID"] for r in refused)
    assert requests.get(f"{sandbox_url}/sandbox/calls", timeout=5).json() == before


def test_logs_hold_no_secrets(stack):
    service_url, _, logs = stack
    token = login(org_id="org-logs", org_name="Logs Ltd")
    answer = requests.post(f"{service_url}/stackone_connect_sessions", json={"provider": "hibob"}, timeout=10,
                           headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    text = (logs / "gunicorn.log").read_text()
    assert "stackone_connect_sessions" in text  # the access log is there ...
    access = [json.loads(line) for line in text.splitlines() if '"logger":"access"' in line]
    assert any((line.get("route"), line.get("owner_id")) == ("/stackone_connect_sessions", "org-logs")
               for line in access)
    assert token not in text and answer.json()["token"] not in text and SANDBOX_KEY not in text  # ... secrets are not


def start_gunicorn_expecting_refusal(tmp_path, **env) -> subprocess.CompletedProcess:
    """Run gunicorn with only `env` configured; it must exit on its own."""
    return subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, timeout=30,
        capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "BIND": f"127.0.0.1:{free_port()}", "STATE_DIR": str(tmp_path), **env},
    )


def test_gunicorn_refuses_to_start_without_an_api_key(tmp_path):
    result = start_gunicorn_expecting_refusal(tmp_path, OWNER_AUTH="jwt", OWNER_JWT_SECRET=JWT_SECRET)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if "refusing to start" in line]
    assert len(errors) == 1 and "STACKONE_API_KEY" in errors[0]
    assert "Traceback" not in result.stderr


def test_gunicorn_refuses_an_incomplete_owner_auth(tmp_path):
    result = start_gunicorn_expecting_refusal(tmp_path, STACKONE_API_KEY=SANDBOX_KEY, OWNER_AUTH="flask-session")
    assert result.returncode != 0 and "LEGACY_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


def test_a_page_on_another_port_completes_checks_breaks_and_disconnects(stack):
    """The lifecycle a page drives: CORS, status pending -> authenticated, a broken account, disconnect."""
    service_url, sandbox_url, _ = stack
    owner = {"Authorization": f"Bearer {login(org_id='org-life', org_name='Life Ltd')}", "Origin": PAGE}
    preflight = requests.options(f"{service_url}/stackone_connect_sessions", timeout=5, headers={
        "Origin": PAGE, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type"})
    assert preflight.headers["Access-Control-Allow-Origin"] == PAGE
    assert "authorization" in preflight.headers["Access-Control-Allow-Headers"].lower()

    minted = requests.post(f"{service_url}/stackone_connect_sessions", json={"provider": "greenhouse"},
                           headers=owner, timeout=10)
    assert minted.headers["Access-Control-Allow-Origin"] == PAGE
    token = minted.json()["token"]

    def status(headers=owner):
        return requests.post(f"{service_url}/stackone_connect_sessions/status", json={"token": token},
                             headers=headers, timeout=10)

    assert status().json()["status"] == "pending"
    account_id = finish_in_hub(sandbox_url, token)["account"]["id"]
    assert status().json() == {"status": "authenticated", "accountId": account_id, "provider": "greenhouse",
                               "expiresAt": minted.json()["expiresAt"]}
    stranger = {"Authorization": f"Bearer {login(org_id='org-stranger', org_name='S')}"}
    assert (status(stranger).status_code, status(stranger).json()["code"]) == (404, "session_not_found")

    # The provider revokes the credentials: the sandbox marks the account and sends account.updated.
    requests.post(f"{sandbox_url}/sandbox/accounts/{account_id}/status", timeout=5, json={
        "status": "error", "reasons": [{"code": "invalid_credentials", "description": "Key revoked"}]})
    listed = requests.get(f"{service_url}/stackone_accounts", headers=owner, timeout=10).json()["data"]
    assert [(a["id"], a["needsReconnect"], a["statusReasons"][0]["code"]) for a in listed] == [
        (account_id, True, "invalid_credentials")]
    reconnect = requests.post(f"{service_url}/stackone_connect_sessions", json={"accountId": account_id},
                              headers=owner, timeout=10).json()
    assert (reconnect["action"], reconnect["accountId"]) == ("update", account_id)

    assert requests.delete(f"{service_url}/stackone_accounts/{account_id}", headers=stranger,
                           timeout=10).status_code == 404
    gone = requests.delete(f"{service_url}/stackone_accounts/{account_id}", headers=owner, timeout=10)
    assert gone.status_code == 204 and gone.headers["Access-Control-Allow-Origin"] == PAGE
    assert requests.get(f"{service_url}/stackone_accounts", headers=owner, timeout=10).json()["data"] == []
    providers = requests.get(f"{service_url}/stackone_providers", headers=owner, timeout=10).json()["data"]
    assert {p["key"] for p in providers} == {"bamboohr", "hibob", "greenhouse", "salesforce"}
