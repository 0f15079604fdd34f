"""Odd input that used to be a 500: every case is the documented problem, and nothing is sent to StackOne."""

from __future__ import annotations

import io
import json
import logging
import threading
from datetime import UTC, datetime

import jwt
import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from app import create_app
from schemas.strict_json import MAX_DEPTH
from tests.helpers import API, JWT_SECRET, account, bearer, login, session_answer, stackone_signature

URL = "/stackone_connect_sessions"
WEBHOOK_SECRET = "whsec_hostile_0123456789"
DEEP = b'{"provider": ' + b"[" * 1000 + b"]" * 1000 + b"}"
BIG_INT = b'{"expiresIn": ' + b"9" * 5000 + b"}"
LONE_SURROGATE = b'{"label": "a\\ud800b"}'


def post_raw(client, body: bytes, **headers):
    return client.post(URL, data=body, headers={"Content-Type": "application/json", **bearer(), **headers})


@pytest.mark.parametrize("body", [DEEP, BIG_INT, LONE_SURROGATE, b"[" * 40 + b"]" * 40],
                         ids=["nested-1000", "int-5000-digits", "lone-surrogate", "array-40-deep"])
def test_hostile_json_is_invalid_json(client, stackone, caplog, body):
    response = post_raw(client, body)
    assert (response.status_code, response.get_json()["code"]) == (400, "invalid_json")
    assert response.mimetype == "application/problem+json" and len(stackone.calls) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_nesting_within_the_limit_is_judged_by_the_schema(client, stackone):
    body = b'{"provider": ' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    response = post_raw(client, body)
    assert (response.status_code, response.get_json()["code"]) == (422, "validation_error")


def test_brackets_inside_strings_do_not_count_as_nesting(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    label = "[{" * 100 + '\\"'
    response = post_raw(client, json.dumps({"label": label}).encode())
    assert response.status_code == 200


def test_an_escaped_surrogate_pair_is_fine(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert post_raw(client, b'{"label": "smile \\ud83d\\ude00"}').status_code == 200


def test_a_chunked_body_over_the_limit_is_413_naming_it(client, stackone):
    """As gunicorn hands over a chunked body: no Content-Length, the stream ends where the body does."""
    body = io.BytesIO(b'{"label": "' + b"x" * 70 * 1024 + b'"}')
    response = client.post(URL, headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked",
                                         **bearer()},
                           environ_overrides={"wsgi.input": body, "wsgi.input_terminated": True})
    problem = response.get_json()
    assert (response.status_code, problem["code"], problem["maxBytes"]) == (413, "payload_too_large", 65536)
    assert "65536" in problem["detail"] and response.headers["Connection"] == "close"
    assert len(stackone.calls) == 0


@pytest.mark.parametrize("claims", [
    {"org_id": "org-\ud800"}, {"org_name": "Acme \udfff"},
])
def test_a_jwt_naming_a_lone_surrogate_owner_is_401(client, stackone, claims):
    token = jwt.encode({**{"org_id": "org-1", "org_name": "Acme", "exp": 2**40}, **claims}, JWT_SECRET,
                       algorithm="HS256")
    response = client.post(URL, json={}, headers=bearer(token))
    assert (response.status_code, response.get_json()["code"]) == (401, "unauthorized")


def test_a_session_cookie_naming_a_lone_surrogate_owner_is_401(env, stackone):
    env.update(OWNER_AUTH="flask-session", LEGACY_SECRET_KEY="legacy-secret-key-0123456789")
    legacy = Flask("legacy")
    legacy.secret_key = env["LEGACY_SECRET_KEY"]
    cookie = SecureCookieSessionInterface().get_signing_serializer(legacy).dumps(
        {"org_id": "org-\ud800", "org_name": "Acme"})
    client = create_app(env).test_client()
    client.set_cookie("session", cookie)
    response = client.post(URL, json={})
    assert (response.status_code, response.get_json()["code"]) == (401, "unauthorized")


@pytest.mark.parametrize("value", ["acc-1\n", "acc-1\r", "acc-1\n\n"])
def test_an_account_id_with_a_trailing_newline_is_refused(client, stackone, value):
    response = client.post(URL, json={"accountId": value}, headers=bearer())
    assert (response.status_code, list(response.get_json()["errors"])) == (422, ["accountId"])
    assert len(stackone.calls) == 0


def test_a_provider_with_a_trailing_newline_is_refused(client, stackone):
    response = client.post(URL, json={"provider": "bamboohr\n"}, headers=bearer())
    assert (response.status_code, list(response.get_json()["errors"])) == (422, ["provider"])


@pytest.fixture
def webhooks(env):
    env["STACKONE_WEBHOOK_SECRETS"] = WEBHOOK_SECRET
    return create_app(env).test_client()


def deliver(client, body: bytes):
    return client.post("/stackone_webhooks", data=body, headers={
        "Content-Type": "application/json", "x-stackone-signature": stackone_signature(WEBHOOK_SECRET, body)})


@pytest.mark.parametrize("body", [
    b'{"event": "account.created", "x": ' + b"[" * 1000 + b"]" * 1000 + b"}",
    b'{"event": "account.created", "n": ' + b"1" * 5000 + b"}",
    b'{"event": "account.created", "origin_owner_id": "org-\\udc00"}',
], ids=["nested", "big-int", "surrogate-owner"])
def test_a_validly_signed_but_hostile_event_is_invalid_json(webhooks, stackone, caplog, body):
    response = deliver(webhooks, body)
    assert (response.status_code, response.get_json()["code"]) == (400, "invalid_json")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_two_deliveries_of_one_event_racing_in_two_workers_act_once(env, caplog):
    """24 deliveries at once through two app instances on one STATE_DIR (two gunicorn workers): one acts, and a
    delivery again afterwards is a duplicate."""
    env["STACKONE_WEBHOOK_SECRETS"] = WEBHOOK_SECRET
    workers = [create_app(env).test_client(), create_app(env).test_client()]
    sent_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = json.dumps({"event": "account.created", "account_id": "acc-race", "origin_owner_id": "org-1",
                       "sent_at": sent_at}).encode()
    for round_ in range(5):
        round_body = body.replace(b"acc-race", f"acc-race-{round_}".encode())
        start = threading.Barrier(24)
        answers: list[str] = []

        def one(i, round_body=round_body, start=start, answers=answers):
            start.wait()
            answer = deliver(workers[i % 2], round_body)
            answers.append(answer.get_json()["status"] if answer.status_code == 200 else answer.get_json()["code"])

        threads = [threading.Thread(target=one, args=(i,)) for i in range(24)]
        [t.start() for t in threads]
        [t.join() for t in threads]
        # One acts; the others are duplicates, or, while it is still acting, told to deliver again (it may yet fail).
        assert answers.count("processed") == 1 and set(answers) <= {"processed", "duplicate", "service_busy"}, \
            f"round {round_}"
        assert deliver(workers[round_ % 2], round_body).get_json()["status"] == "duplicate"


def test_accounts_for_a_provider_that_is_not_enabled_call_nothing(client, stackone):
    response = client.get("/stackone_accounts?provider=workday", headers=bearer())
    assert (response.status_code, response.get_json()["code"]) == (422, "provider_not_enabled")
    assert len(stackone.calls) == 0


def test_a_stale_connector_list_is_refreshed_once_while_others_use_it(env, stackone, monkeypatch):
    del env["STACKONE_ENABLED_PROVIDERS"]
    env["CONNECTORS_CACHE_TTL"] = "60"
    client = create_app(env).test_client()
    meta = [{"provider": "bamboohr", "active": True}]
    stackone.get(f"{API}/connectors/meta", json=meta)
    stackone.get(f"{API}/accounts", json=[account("a1")])
    assert client.get("/stackone_accounts?provider=bamboohr", headers=bearer(login())).status_code == 200
    assert client.get("/stackone_accounts?provider=hibob", headers=bearer()).status_code == 422
    assert sum(c.request.url.endswith("/connectors/meta") for c in stackone.calls) == 1

    # Past the TTL, with another request already refreshing: this one keeps the old list, no second call.
    import time

    later = time.time() + 120
    monkeypatch.setattr("stackone.directory.time.time", lambda: later)
    services = client.application.extensions["stackone_connect"]
    assert services.state.add("connectors:refreshing", 1, ttl=30)
    assert services.accounts.enabled_providers() == frozenset({"bamboohr"})
    assert sum(c.request.url.endswith("/connectors/meta") for c in stackone.calls) == 1
