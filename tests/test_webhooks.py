"""POST /stackone_webhooks: signatures checked on the raw bytes, replays acknowledged once, caches dropped."""

from __future__ import annotations

import json
import logging
import time
from datetime import UTC, datetime, timedelta

import pytest
from responses import matchers

from app import create_app
from extensions import EXTENSION_KEY
from tests.helpers import API, account, bearer, session_answer, stackone_signature

URL = "/stackone_webhooks"
OLD_SECRET, NEW_SECRET = "whsec_old_0123456789abcdef", "whsec_new_fedcba9876543210"


@pytest.fixture
def env(env):
    env["STACKONE_WEBHOOK_SECRETS"] = f"{NEW_SECRET}, {OLD_SECRET}"
    return env


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def event(kind="account.created", owner="org-1", account_id="acc-1", **extra) -> bytes:
    return json.dumps({"project_id": "p1", "event": kind, "event_date": "2026-11-21T00:00:00Z",
                       "record_type": "account", "record_id": account_id, "sent_at": now_iso(),
                       "account_id": account_id, "provider": "bamboohr", "origin_owner_id": owner,
                       "origin_owner_name": "Acme Inc", "origin_username": "ann@acme.test",
                       "setup_information": {"api_token": "SETUP-SECRET"}, **extra}).encode()


def deliver(client, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["x-stackone-signature"] = signature
    return client.post(URL, data=body, headers=headers)


def webhook_lines(caplog):
    return [json.loads(r.getMessage()) for r in caplog.records if r.name == "webhooks"]


def test_good_signature_is_processed_and_logged_without_secrets(client, caplog):
    caplog.set_level(logging.INFO)
    body = event()
    response = deliver(client, body, stackone_signature(NEW_SECRET, body))
    assert (response.status_code, response.get_json()) == (200, {"status": "processed"})
    assert webhook_lines(caplog) == [{"webhook": "account.created", "account_id": "acc-1", "provider": "bamboohr",
                                      "origin_owner_id": "org-1", "outcome": "processed"}]
    assert "SETUP-SECRET" not in caplog.text


def test_rotated_secret_still_verifies(client):
    body = event()
    assert deliver(client, body, stackone_signature(OLD_SECRET, body)).status_code == 200


@pytest.mark.parametrize("padded", [False, True])
def test_padding_with_and_without_equals(client, padded):
    body = event(account_id=f"acc-pad-{padded}")
    signature = stackone_signature(NEW_SECRET, body)
    assert not signature.endswith("=")  # StackOne sends it unpadded
    assert deliver(client, body, signature + ("=" if padded else "")).status_code == 200


@pytest.mark.parametrize(("body", "signature"), [
    (event(), stackone_signature("whsec_someone_else", event())),             # wrong secret
    (event(owner="org-2"), stackone_signature(NEW_SECRET, event())),          # tampered body
    (event(), None),                                                          # no header
    (event(), ""),                                                            # empty header
    (event(), "not-a-signature"),                                             # garbage
    (event(), "é" * 43),                                                      # not even ASCII
    (b"\x00\xff garbage {", stackone_signature(NEW_SECRET, b"something else")),  # garbage body, wrong signature
])
def test_bad_signatures_are_401_and_nothing_is_acted_on(client, caplog, body, signature):
    caplog.set_level(logging.INFO)
    response = deliver(client, body, signature)
    assert (response.status_code, response.get_json()["code"]) == (401, "invalid_signature")
    assert webhook_lines(caplog) == []


def test_signed_garbage_is_400(client):
    body = b"\x00\xff not json"
    response = deliver(client, body, stackone_signature(NEW_SECRET, body))
    assert (response.status_code, response.get_json()["code"]) == (400, "invalid_json")


def test_replayed_delivery_is_acknowledged_once(client, caplog, monkeypatch):
    caplog.set_level(logging.INFO)
    body = event(account_id="acc-replay")
    signature = stackone_signature(NEW_SECRET, body)
    answers = [deliver(client, body, signature).get_json()["status"] for _ in range(3)]
    assert answers == ["processed", "duplicate", "duplicate"]
    assert [line["outcome"] for line in webhook_lines(caplog) if "outcome" in line] == ["processed"]
    # After the 24 h window the replay mark is gone, but the signed sent_at is too old: still not acted on.
    later = time.time() + 24 * 3600 + 5
    monkeypatch.setattr("webhooks.events.time.time", lambda: later)
    monkeypatch.setattr(client.application.extensions[EXTENSION_KEY].state, "clock", lambda: later)
    assert deliver(client, body, signature).get_json()["status"] == "stale"
    assert [line["outcome"] for line in webhook_lines(caplog) if "outcome" in line] == ["processed", "stale"]


@pytest.mark.parametrize(("sent_at", "reason"), [
    (None, "sent_at missing"), ("yesterday-ish", "sent_at unreadable"), (12345, "sent_at missing"),
    ("2026-01-01T00:00:00Z", "sent_at older than the replay window"),
    ("2999-01-01T00:00:00Z", "sent_at in the future"),
])
def test_events_outside_the_window_are_answered_but_not_acted_on(client, caplog, sent_at, reason):
    caplog.set_level(logging.INFO)
    body = event(account_id="acc-old", sent_at=sent_at)
    response = deliver(client, body, stackone_signature(NEW_SECRET, body))
    assert (response.status_code, response.get_json()) == (200, {"status": "stale"})
    assert [(line["outcome"], line["reason"]) for line in webhook_lines(caplog)] == [("stale", reason)]


def test_a_few_minutes_of_clock_skew_is_fine(client):
    ahead = (datetime.now(UTC) + timedelta(minutes=4)).isoformat().replace("+00:00", "Z")
    body = event(account_id="acc-skew", sent_at=ahead)
    assert deliver(client, body, stackone_signature(NEW_SECRET, body)).get_json()["status"] == "processed"


def test_unknown_event_types_are_200_and_logged(client, caplog):
    caplog.set_level(logging.INFO)
    body = event(kind="hris.employee.updated")
    response = deliver(client, body, stackone_signature(NEW_SECRET, body))
    assert (response.status_code, response.get_json()) == (200, {"status": "ignored"})
    assert webhook_lines(caplog)[0]["outcome"] == "ignored"


def test_without_secrets_the_route_is_503_and_accepts_nothing(env, caplog):
    del env["STACKONE_WEBHOOK_SECRETS"]
    caplog.set_level(logging.INFO)
    client = create_app(env).test_client()
    body = event()
    for signature in (None, stackone_signature(NEW_SECRET, body), stackone_signature("", body)):
        response = deliver(client, body, signature)
        assert (response.status_code, response.get_json()["code"]) == (503, "webhooks_not_configured")
    assert webhook_lines(caplog) == []


def test_startup_notes_say_why_webhooks_are_off(env):
    from config import Settings
    from serving.preflight import startup_notes

    del env["STACKONE_WEBHOOK_SECRETS"]
    notes = [line for level, line in startup_notes(Settings.from_env(env)) if level == logging.WARNING]
    assert notes and "STACKONE_WEBHOOK_SECRETS" in notes[0]


def test_account_event_reaches_every_worker_sharing_the_state_dir(env, stackone):
    """Two app instances on one STATE_DIR stand for two gunicorn workers."""
    worker_a, worker_b = create_app(env).test_client(), create_app(env).test_client()
    query = matchers.query_param_matcher(
        {"origin_owner_id": "org-1", "providers": "bamboohr", "page": "1", "page_size": "100"})
    stackone.get(f"{API}/accounts", json=[], match=[query])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert worker_a.post("/stackone_connect_sessions", json={"provider": "bamboohr"},
                         headers=bearer()).get_json()["action"] == "create"
    # Cached: worker B decides from the shared cache without asking StackOne again.
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert worker_b.post("/stackone_connect_sessions", json={"provider": "bamboohr"},
                         headers=bearer()).get_json()["action"] == "create"
    assert sum(c.request.method == "GET" for c in stackone.calls) == 1

    body = event(account_id="acc-new")
    assert deliver(worker_b, body, stackone_signature(NEW_SECRET, body)).status_code == 200

    stackone.get(f"{API}/accounts", json=[account("acc-new")], match=[query])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    answer = worker_a.post("/stackone_connect_sessions", json={"provider": "bamboohr"}, headers=bearer()).get_json()
    assert (answer["action"], answer["accountId"]) == ("update", "acc-new")


def test_events_for_another_owner_leave_this_owners_cache(env, stackone):
    client = create_app(env).test_client()
    stackone.get(f"{API}/accounts", json=[])
    for _ in range(2):
        stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    client.post("/stackone_connect_sessions", json={"provider": "bamboohr"}, headers=bearer())
    body = event(owner="org-2")
    deliver(client, body, stackone_signature(NEW_SECRET, body))
    client.post("/stackone_connect_sessions", json={"provider": "bamboohr"}, headers=bearer())
    assert sum(c.request.method == "GET" for c in stackone.calls) == 1


def test_a_replay_at_the_very_end_of_the_freshness_window_is_still_a_duplicate(client, monkeypatch):
    # sent_at 5 minutes ahead (the allowed skew): fresh until 24 h 5 min after receipt, so its mark must live as long.
    ahead = (datetime.now(UTC) + timedelta(minutes=5)).isoformat().replace("+00:00", "Z")
    body = event(sent_at=ahead)
    signature = stackone_signature(NEW_SECRET, body)
    assert deliver(client, body, signature).get_json()["status"] == "processed"
    later = time.time() + 24 * 3600 + 4 * 60  # 24 h 4 min on: the event is still inside its window
    monkeypatch.setattr("webhooks.events.time.time", lambda: later)
    monkeypatch.setattr(client.application.extensions[EXTENSION_KEY].state, "clock", lambda: later)
    assert deliver(client, body, signature).get_json()["status"] == "duplicate"
