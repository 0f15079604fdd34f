"""After a session: disconnecting an account, asking how a session went, the providers to offer, broken accounts."""

from __future__ import annotations

import logging
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
from responses import matchers

from app import create_app
from tests.helpers import API, account, bearer, session_answer

TOKEN = "sess_tok_abcdef123456"


def details(owner="org-1", attempt=None, **fields):
    """StackOne's answer to POST /connect_sessions/authenticate."""
    body = {"id": 7, "origin_owner_id": owner, "origin_owner_name": "Acme Inc", "provider": "bamboohr",
            "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"), **fields}
    if attempt is not None:
        body["latest_connection_attempt"] = attempt
    return body


def status_of(client, token=TOKEN, **headers):
    return client.post("/stackone_connect_sessions/status", json={"token": token}, headers={**bearer(), **headers})


def test_disconnecting_ones_own_account(client, stackone):
    stackone.get(f"{API}/accounts/acc-1", json=account("acc-1"))
    stackone.delete(f"{API}/accounts/acc-1", json=account("acc-1"))
    response = client.delete("/stackone_accounts/acc-1", headers=bearer())
    assert response.status_code == 204 and response.get_data() == b""


def test_someone_elses_account_is_not_found_and_not_deleted(client, stackone):
    stackone.get(f"{API}/accounts/acc-9", json=account("acc-9", owner="org-2"))
    response = client.delete("/stackone_accounts/acc-9", headers=bearer())
    assert (response.status_code, response.get_json()["code"]) == (404, "account_not_found")
    assert [c.request.method for c in stackone.calls] == ["GET"]


@pytest.mark.parametrize("account_id", ["acc%0A1", "a" * 200, "acc.1"])
def test_an_id_stackone_could_not_have_issued_sends_nothing(client, stackone, account_id):
    response = client.delete(f"/stackone_accounts/{account_id}", headers=bearer())
    assert (response.status_code, response.get_json()["code"]) == (404, "account_not_found")
    assert len(stackone.calls) == 0


def test_an_account_gone_meanwhile_is_not_found(client, stackone):
    stackone.get(f"{API}/accounts/acc-1", json=account("acc-1"))
    stackone.delete(f"{API}/accounts/acc-1", status=404, json={"statusCode": 404, "message": "Not found"})
    assert client.delete("/stackone_accounts/acc-1", headers=bearer()).status_code == 404


def test_disconnecting_drops_the_owners_cached_accounts(env, stackone):
    env["STACKONE_WEBHOOK_SECRETS"] = "whsec_0123456789"  # turns the account cache on
    client = create_app(env).test_client()
    stackone.get(f"{API}/accounts", json=[account("acc-1")])
    assert len(client.get("/stackone_accounts", headers=bearer()).get_json()["data"]) == 1
    stackone.get(f"{API}/accounts/acc-1", json=account("acc-1"))
    stackone.delete(f"{API}/accounts/acc-1", json=account("acc-1"))
    client.delete("/stackone_accounts/acc-1", headers=bearer())
    stackone.get(f"{API}/accounts", json=[])
    assert client.get("/stackone_accounts", headers=bearer()).get_json()["data"] == []


def test_a_session_without_an_attempt_is_pending(client, stackone):
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=details(),
                  match=[matchers.json_params_matcher({"token": TOKEN})])
    stackone.get(f"{API}/accounts", json=[account("acc-old", created_at="2020-01-01T00:00:00Z")])
    answer = status_of(client).get_json()
    assert (answer["status"], answer["provider"]) == ("pending", "bamboohr")
    assert answer["expiresAt"].endswith("Z")  # StackOne's created_at plus the default 30 minutes


def test_an_authenticated_session_names_the_account(client, stackone):
    attempt = {"id": "a1", "status": "authenticated", "account_secure_id": "acc-77",
               "created_at": "2026-11-21T00:01:00Z", "updated_at": "2026-11-21T00:02:00Z"}
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=details(attempt=attempt))
    answer = status_of(client).get_json()
    assert (answer["status"], answer["accountId"], answer["provider"]) == ("authenticated", "acc-77", "bamboohr")


@pytest.mark.parametrize("status", ["error", "cancelled", "expired"])
def test_other_attempt_outcomes_pass_through(client, stackone, status):
    stackone.post(f"{API}/connect_sessions/authenticate", status=201,
                  json=details(attempt={"status": status, "account_secure_id": None}))
    assert status_of(client).get_json()["status"] == status


def test_a_session_past_its_lifetime_is_expired(client, stackone, monkeypatch):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token=TOKEN))
    minted = client.post("/stackone_connect_sessions", json={"expiresIn": 60}, headers=bearer()).get_json()
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=details(provider=None))
    assert status_of(client).get_json() == {"status": "pending", "expiresAt": minted["expiresAt"]}

    class TwoMinutesLater(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.now(tz) + timedelta(minutes=2)

    monkeypatch.setattr("policy.lifecycle.datetime", TwoMinutesLater)
    # Answered from the outcome kept a moment ago (StackOne is not asked again): the lifetime is checked each time.
    assert status_of(client).get_json()["status"] == "expired"


def test_another_owners_session_tells_nothing(client, stackone):
    attempt = {"status": "authenticated", "account_secure_id": "acc-secret"}
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=details(owner="org-2", attempt=attempt))
    response = status_of(client)
    assert (response.status_code, response.get_json()["code"]) == (404, "session_not_found")
    assert "acc-secret" not in response.get_data(as_text=True) and "org-2" not in response.get_data(as_text=True)


@pytest.mark.parametrize("status", [400, 404, 410])
def test_a_token_stackone_does_not_know_is_not_found(client, stackone, status):
    stackone.post(f"{API}/connect_sessions/authenticate", status=status, json={"message": "invalid token"})
    assert status_of(client).get_json()["code"] == "session_not_found"


@pytest.mark.parametrize("body", [{}, {"token": "short"}, {"token": "has space 123456"}, {"token": 12345678},
                                  {"token": TOKEN, "origin_owner_id": "org-2"}])
def test_status_requests_are_validated_before_stackone(client, stackone, body):
    response = client.post("/stackone_connect_sessions/status", json=body, headers=bearer())
    assert response.status_code in (400, 422) and len(stackone.calls) == 0


def test_status_needs_a_login(client, stackone):
    assert client.post("/stackone_connect_sessions/status", json={"token": TOKEN}).status_code == 401


def test_broken_accounts_say_why_and_offer_reconnect(client, stackone):
    reasons = [{"code": "invalid_credentials", "description": "The API key was revoked",
                "timestamp": "2026-11-20T10:00:00Z", "internal": "do not pass on"}]
    stackone.get(f"{API}/accounts", json=[account("a1", status="error", status_reasons=reasons),
                                          account("a2", status="suspended"), account("a3", status="archived")])
    data = client.get("/stackone_accounts", headers=bearer()).get_json()["data"]
    assert [(a["id"], a["needsReconnect"]) for a in data] == [("a1", True), ("a2", True), ("a3", False)]
    assert data[0]["statusReasons"] == [{"code": "invalid_credentials", "description": "The API key was revoked",
                                         "timestamp": "2026-11-20T10:00:00Z"}]


def test_providers_lists_the_enabled_ones_by_name(env, stackone):
    del env["STACKONE_ENABLED_PROVIDERS"]
    client = create_app(env).test_client()
    stackone.get(f"{API}/connectors/meta", json=[
        {"provider": "hibob", "provider_name": "HiBob", "category": "hris", "active": True},
        {"provider": "bamboohr", "provider_name": "BambooHR", "category": "hris", "active": True},
        {"provider": "workday", "provider_name": "Workday", "category": "hris", "active": False}])
    answer = client.get("/stackone_providers", headers=bearer())
    assert answer.get_json() == {"data": [{"key": "bamboohr", "name": "BambooHR", "category": "hris"},
                                          {"key": "hibob", "name": "HiBob", "category": "hris"}]}
    refused = client.post("/stackone_connect_sessions", json={"provider": "workday"}, headers=bearer()).get_json()
    assert refused["enabledProviders"] == ["bamboohr", "hibob"] and "bamboohr, hibob" in refused["detail"]


def test_configured_providers_keep_working_without_their_names(client, stackone, caplog):
    stackone.get(f"{API}/connectors/meta", status=500, json={"message": "down"})
    caplog.set_level(logging.WARNING)
    answer = client.get("/stackone_providers", headers=bearer()).get_json()
    assert [p["key"] for p in answer["data"]] == ["bamboohr", "greenhouse", "hibob"]
    assert any("connector names unavailable" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(("query", "headers", "status"), [("", {}, 401), ("?x=1", bearer(), 422),
                                                           ("?origin_owner_id=o", bearer(), 400)])
def test_providers_refusals(client, stackone, query, headers, status):
    assert client.get("/stackone_providers" + query, headers=headers).status_code == status
    assert len(stackone.calls) == 0


def test_a_default_session_needs_no_record_and_expires_from_stackones_created_at(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token=TOKEN))
    client.post("/stackone_connect_sessions", json={}, headers=bearer())
    services = client.application.extensions["stackone_connect"]
    with sqlite3.connect(services.state.database.path) as db:
        assert db.execute("SELECT count(*) FROM kv").fetchone() == (0,)  # nothing written on the hot path
    stackone.get(f"{API}/accounts", json=[])
    long_ago = (datetime.now(UTC) - timedelta(hours=2)).isoformat().replace("+00:00", "Z")
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=details(created_at=long_ago))
    assert status_of(client).get_json()["status"] == "expired"
    just_now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=details(created_at=just_now))
    assert status_of(client, token=TOKEN + "2").get_json()["status"] == "pending"


def test_an_unknown_token_and_another_owners_token_get_the_same_answer(client, stackone):
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=details(owner="org-2"))
    stackone.post(f"{API}/connect_sessions/authenticate", status=404, json={"message": "Session not found"})
    answers = [status_of(client, token=token) for token in (TOKEN, TOKEN + "2")]
    bodies = [{k: v for k, v in a.get_json().items() if k != "requestId"} for a in answers]
    assert [a.status_code for a in answers] == [404, 404] and bodies[0] == bodies[1]


def no_attempts(**fields):
    """StackOne's answer without latest_connection_attempt (as every SDK's schema has it), made a minute ago."""
    minute_ago = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds").replace("+00:00", "Z")
    return details(created_at=minute_ago, **fields)


def just_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def test_without_attempts_a_create_completes_with_the_owners_new_account_for_its_provider(client, stackone):
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=no_attempts())
    stackone.get(f"{API}/accounts", json=[account("acc-old", created_at="2020-01-01T00:00:00Z"),
                                          account("acc-new", created_at=just_now())],
                 match=[matchers.query_param_matcher({"origin_owner_id": "org-1", "providers": "bamboohr",
                                                      "page": "1", "page_size": "100"})])
    answer = status_of(client).get_json()
    assert (answer["status"], answer["accountId"], answer["provider"]) == ("authenticated", "acc-new", "bamboohr")


def test_without_attempts_another_providers_new_account_completes_nothing(client, stackone):
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=no_attempts())
    # StackOne filters by provider; were it to answer another provider's new account anyway, it would not count.
    stackone.get(f"{API}/accounts", json=[account("acc-hibob", provider="hibob", created_at=just_now())])
    assert status_of(client).get_json()["status"] == "pending"


def test_without_attempts_an_update_completes_once_its_account_changed_after_the_session(client, stackone,
                                                                                        monkeypatch):
    monkeypatch.setattr("sessions.status.PENDING_FRESH", 0)  # every poll finds the kept outcome stale and asks again
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=no_attempts(account_id="acc-1"))
    stackone.get(f"{API}/accounts", json=[account("acc-1", updated_at="2020-01-02T00:00:00Z")])
    assert status_of(client).get_json()["status"] == "pending"
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=no_attempts(account_id="acc-1"))
    stackone.get(f"{API}/accounts", json=[account("acc-1", updated_at=just_now())])
    answer = status_of(client).get_json()
    assert (answer["status"], answer["accountId"]) == ("authenticated", "acc-1")


def test_without_attempts_another_owners_session_asks_for_no_accounts(client, stackone):
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=no_attempts(owner="org-2"))
    assert status_of(client).status_code == 404
    assert [c.request.method for c in stackone.calls] == ["POST"]


def test_over_its_poll_budget_an_owner_still_hears_of_a_known_session_and_only_a_new_token_is_refused(
        env, stackone, monkeypatch):
    monkeypatch.setattr("sessions.status.PENDING_FRESH", 0)  # every poll finds the kept outcome stale: would ask
    client = create_app({**env, "OWNER_STATUS_RATE_LIMIT": "1/minute"}).test_client()
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=details(attempt={"status": "pending"}))
    assert status_of(client).get_json()["status"] == "pending"  # the one poll this minute that may reach StackOne
    assert [status_of(client).get_json()["status"] for _ in range(3)] == ["pending"] * 3  # as last known
    refused = status_of(client, token=TOKEN + "2")
    assert (refused.status_code, refused.get_json()["code"]) == (429, "rate_limited")
    assert len(stackone.calls) == 1


def test_a_colleagues_new_account_does_not_settle_anothers_pending_session(tmp_path):
    from domain.accounts import SessionDetails
    from sessions.status import SessionPolls, remember_created
    from state import open_sqlite_state

    state = open_sqlite_state(str(tmp_path / "state"))
    bobs = SessionDetails("org-1", "hibob", None, "2026-12-06T08:00:00Z", 1800, "pending", None,
                          origin_username="bob@acme.test")
    polls = SessionPolls(state, lambda owner_id, token: bobs)
    remember_created(state, "org-1", "hibob", "acc-ann", "2026-12-06T08:01:00Z", "ann@acme.test")
    assert polls.details("org-1", "tok-bob-000001").attempt_status == "pending"  # Ann's account is not Bob's
    remember_created(state, "org-1", "hibob", "acc-bob", "2026-12-06T08:02:00Z", "bob@acme.test")
    settled = polls.details("org-1", "tok-bob-000002")
    assert (settled.attempt_status, settled.attempt_account_id) == ("authenticated", "acc-bob")
