"""What an operator sees: the request id sent on to StackOne, one JSON access line per request, the audit trail,
and no secret in any line of a whole run."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from responses import matchers

from app import create_app
from logs.formats import JSONFormatter
from logs.setup import SafeLogFilter
from tests.helpers import API, API_KEY, JWT_SECRET, account, bearer, login, session_answer, stackone_signature

WEBHOOK_SECRET = "whsec_observe_0123456789"
LEGACY_KEY = "legacy-observe-key-0123456789"


@pytest.fixture
def lines():
    """Every record of the run, formatted as the service writes it (JSON, through the safety filter)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(SafeLogFilter((API_KEY, JWT_SECRET, WEBHOOK_SECRET)))
    handler.setFormatter(JSONFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous = root.level
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    root.removeHandler(handler)
    root.setLevel(previous)


@pytest.fixture
def observed(env):
    env.update(STACKONE_WEBHOOK_SECRETS=WEBHOOK_SECRET, OWNER_RATE_LIMIT="3/minute")
    return create_app(env).test_client()


def test_the_request_id_goes_to_stackone(client, stackone):
    stackone.get(f"{API}/accounts", json=[], match=[matchers.header_matcher({"X-Request-ID": "ticket-42"})])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(),
                  match=[matchers.header_matcher({"X-Request-ID": "ticket-42"})])
    answer = client.post("/stackone_connect_sessions", json={"provider": "bamboohr"},
                         headers={"X-Request-ID": "ticket-42", **bearer()})
    assert answer.status_code == 200


def test_one_access_line_per_request_with_route_owner_action_and_stackone_time(client, stackone, lines):
    stackone.get(f"{API}/accounts/acc-1", json=account("acc-1"))
    stackone.delete(f"{API}/accounts/acc-1", json=account("acc-1"))
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    client.delete("/stackone_accounts/acc-1", headers=bearer())
    client.post("/stackone_connect_sessions", json={}, headers=bearer())
    client.get("/healthz%0AFORGED")
    access = [line for line in lines() if line["logger"] == "access"]
    assert len(access) == 3
    deleted, minted, missing = access
    assert (deleted["method"], deleted["route"], deleted["status"], deleted["owner_id"]) == (
        "DELETE", "/stackone_accounts/<account_id>", 204, "org-1")
    assert deleted["stackone_ms"] > 0 and deleted["duration_ms"] >= deleted["stackone_ms"]
    assert (minted["action"], minted["status"]) == ("create", 200)
    assert missing["status"] == 404 and "route" not in missing and "FORGED" not in json.dumps(missing)
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in access)


def test_the_audit_trail(observed, stackone, lines):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(id=991))
    observed.post("/stackone_connect_sessions", json={"provider": "bamboohr"}, headers=bearer())
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(id=992))
    observed.post("/stackone_auth_links", json={}, headers=bearer())
    stackone.get(f"{API}/accounts/acc-1", json=account("acc-1"))
    stackone.delete(f"{API}/accounts/acc-1", json=account("acc-1"))
    observed.delete("/stackone_accounts/acc-1", headers=bearer())
    stackone.get(f"{API}/accounts/acc-9", json=account("acc-9", owner="org-2"))
    other = bearer(login(org_id="org-x", org_name="X"))
    observed.post("/stackone_connect_sessions", json={"originOwnerId": "org-2"}, headers=other)  # owner fields
    observed.post("/stackone_connect_sessions", json={"accountId": "acc-9"}, headers=other)  # another's account
    body = json.dumps({"event": "account.created", "account_id": "acc-2", "origin_owner_id": "org-1",
                       "provider": "hibob", "sent_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                       "setup_information": {"api_token": "SETUP-SECRET"}}).encode()
    observed.post("/stackone_webhooks", data=body, headers={
        "Content-Type": "application/json", "x-stackone-signature": stackone_signature(WEBHOOK_SECRET, body)})
    observed.post("/stackone_webhooks", data=body, headers={
        "Content-Type": "application/json", "x-stackone-signature": "forged"})
    for _ in range(2):  # org-x's 3rd request is its last within 3/minute; the 4th is refused
        observed.post("/stackone_connect_sessions", json={}, headers=other)

    audit = [line for line in lines() if line["logger"] == "audit"]
    kinds = [(line["audit"], line.get("code")) for line in audit]
    assert kinds == [("session_minted", None), ("auth_link_minted", None), ("account_disconnected", None),
                     ("refused", "owner_fields_forbidden"), ("refused", "account_not_found"),
                     ("webhook_accepted", None), ("refused", "invalid_signature"), ("session_minted", None),
                     ("refused", "rate_limited")]
    minted = audit[0]
    assert (minted["owner_id"], minted["username"], minted["action"], minted["provider"],
            minted["stackone_session_id"]) == ("org-1", "ann@acme.test", "create", "bamboohr", "991")
    assert minted["expires_at"].endswith("Z") and "token" not in minted
    assert audit[2]["account_id"] == "acc-1" and audit[4]["owner_id"] == "org-x"
    assert (audit[5]["event"], audit[5]["account_id"]) == ("account.created", "acc-2")


def test_the_origin_refusal_is_audited(env, stackone, lines):
    env.update(OWNER_AUTH="flask-session", LEGACY_SECRET_KEY=LEGACY_KEY)
    client = create_app(env).test_client()
    legacy = Flask("legacy")
    legacy.secret_key = LEGACY_KEY
    client.set_cookie("session", SecureCookieSessionInterface().get_signing_serializer(legacy).dumps(
        {"org_id": "org-1", "org_name": "Acme"}))
    client.post("/stackone_connect_sessions", json={}, headers={"Origin": "http://evil.test"})
    assert [(line["audit"], line["code"]) for line in lines() if line["logger"] == "audit"] == [
        ("refused", "origin_not_allowed")]


def test_no_line_of_a_run_holds_a_secret(observed, stackone, lines):
    token = login()
    stackone.get(f"{API}/accounts", json=[account("acc-1")])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="cst_secret_session_token_1"))
    stackone.post(f"{API}/connect_sessions", status=400, json={
        "message": f"bad cst_secret_session_token_2 Bearer {token}"})
    minted = observed.post("/stackone_connect_sessions", json={"provider": "bamboohr"}, headers=bearer(token))
    observed.post("/stackone_auth_links", json={}, headers=bearer(token))
    body = json.dumps({"event": "account.updated", "account_id": "acc-1", "origin_owner_id": "org-1",
                       "sent_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                       "setup_information": {"api_token": "SETUP-SECRET-XYZ"}}).encode()
    observed.post("/stackone_webhooks", data=body, headers={
        "Content-Type": "application/json", "x-stackone-signature": stackone_signature(WEBHOOK_SECRET, body)})
    text = "\n".join(json.dumps(line) for line in lines())
    assert minted.get_json()["token"] == "cst_secret_session_token_1"
    for secret in (token, API_KEY, JWT_SECRET, WEBHOOK_SECRET, "cst_secret_session_token", "SETUP-SECRET-XYZ",
                   body.decode()):
        assert secret not in text
    assert text.count('"logger": "access"') == 3
