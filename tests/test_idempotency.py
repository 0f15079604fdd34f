"""Idempotency-Key on the minting routes: one StackOne call per key and body, the first answer again, sealed."""

from __future__ import annotations

import json
import sqlite3
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers import API, bearer, login, session_answer

SESSIONS, LINKS = "/stackone_connect_sessions", "/stackone_auth_links"


def mints(stackone) -> int:
    """How many sessions were asked of StackOne."""
    return sum(c.request.method == "POST" and c.request.url.endswith("/connect_sessions") for c in stackone.calls)


def keyed(key: str, **headers) -> dict[str, str]:
    return {**bearer(), "Idempotency-Key": key, **headers}


@pytest.mark.parametrize("route", [SESSIONS, LINKS])
def test_the_same_key_and_body_get_the_first_answer_again_with_one_stackone_call(client, stackone, route):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-once-0001"))
    first = client.post(route, json={"provider": "bamboohr"}, headers=keyed("k-1"))
    again = client.post(route, json={"provider": "bamboohr"}, headers=keyed("k-1"))
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.get_data() == again.get_data() and again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert mints(stackone) == 1


def test_the_same_key_with_another_body_is_422_and_sends_nothing(client, stackone):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    client.post(SESSIONS, json={"provider": "bamboohr"}, headers=keyed("k-2"))
    reused = client.post(SESSIONS, json={"provider": "hibob"}, headers=keyed("k-2"))
    assert (reused.status_code, reused.get_json()["code"]) == (422, "idempotency_key_reused")
    assert mints(stackone) == 1


def test_key_order_in_the_body_does_not_make_another_request(client, stackone):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    client.post(SESSIONS, data='{"provider": "bamboohr", "label": "EU"}', content_type="application/json",
                headers=keyed("k-order"))
    again = client.post(SESSIONS, data='{"label": "EU", "provider": "bamboohr"}', content_type="application/json",
                        headers=keyed("k-order"))
    assert again.headers.get("Idempotent-Replayed") == "true" and mints(stackone) == 1


def test_another_owners_identical_key_is_another_key(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-owner-one"))
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-owner-two"))
    mine = client.post(SESSIONS, json={}, headers=keyed("shared-key")).get_json()
    other = {"Authorization": f"Bearer {login(org_id='org-2', org_name='Two')}", "Idempotency-Key": "shared-key"}
    theirs = client.post(SESSIONS, json={}, headers=other).get_json()
    assert (mine["token"], theirs["token"]) == ("tok-owner-one", "tok-owner-two")


@pytest.mark.parametrize("key", ["", '""', "x" * 256, "a\x01b", "tab\there"])
def test_a_malformed_key_is_400_before_anything_is_sent(client, stackone, key):
    refused = client.post(SESSIONS, json={}, headers=keyed(key))
    assert (refused.status_code, refused.get_json()["code"]) == (400, "invalid_idempotency_key")
    assert len(stackone.calls) == 0


def test_the_drafts_structured_string_form_is_the_same_key(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    client.post(SESSIONS, json={}, headers=keyed("8e03978e-40d5"))
    again = client.post(SESSIONS, json={}, headers=keyed('"8e03978e-40d5"'))
    assert again.headers.get("Idempotent-Replayed") == "true" and mints(stackone) == 1


def test_a_stackone_refusal_is_kept_like_a_success(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=400, json={"statusCode": 400, "message": "bad label"})
    first = client.post(SESSIONS, json={"label": "x"}, headers=keyed("k-refused"))
    again = client.post(SESSIONS, json={"label": "x"}, headers=keyed("k-refused"))
    assert (first.status_code, again.status_code) == (422, 422) and first.get_data() == again.get_data()
    assert again.mimetype == "application/problem+json" and mints(stackone) == 1


@pytest.mark.parametrize("status", [500, 502])
def test_a_stackone_failure_is_not_kept_so_the_same_key_may_retry(client, stackone, status):
    stackone.post(f"{API}/connect_sessions", status=status, json={"statusCode": status, "message": "down"})
    assert client.post(SESSIONS, json={}, headers=keyed("k-retry")).status_code >= 500
    stackone.replace("POST", f"{API}/connect_sessions", status=201, json=session_answer(token="tok-second"))
    retried = client.post(SESSIONS, json={}, headers=keyed("k-retry"))
    assert retried.status_code == 200 and retried.get_json()["token"] == "tok-second"
    assert "Idempotent-Replayed" not in retried.headers


def test_the_stored_answer_does_not_hand_out_its_token_from_the_state_alone(app, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-sealed-secret"))
    app.test_client().post(SESSIONS, json={}, headers=keyed("k-sealed"))
    with sqlite3.connect(app.extensions["stackone_connect"].state.database.path) as db:
        stored = "".join(key + value for key, value in db.execute("SELECT key, value FROM kv"))
    assert stored and "tok-sealed-secret" not in stored and "k-sealed" not in stored and "org-1" not in stored


def test_the_key_and_the_token_reach_no_log_line(client, stackone, caplog):
    caplog.set_level("DEBUG")
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-quiet-000"))
    client.post(SESSIONS, json={}, headers=keyed("k-quiet-key"))
    client.post(SESSIONS, json={}, headers=keyed("k-quiet-key"))
    assert "tok-quiet-000" not in caplog.text and "k-quiet-key" not in caplog.text


def test_concurrent_requests_with_one_key_make_one_session(app, stackone):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-race-0001"))

    def send(_):
        return app.test_client().post(SESSIONS, json={"provider": "bamboohr"}, headers=keyed("k-race"))

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(send, range(16)))
    assert {a.status_code for a in answers} == {200}
    assert len({a.get_data() for a in answers}) == 1 and mints(stackone) == 1
    assert json.loads(answers[0].get_data())["token"] == "tok-race-0001"
