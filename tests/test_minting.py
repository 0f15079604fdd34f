"""Live-session reuse and account caps over HTTP (StackOne played by responses)."""

from __future__ import annotations

import pytest

from app import create_app
from minting.reuse import half_life_left
from tests.helpers import API, account, bearer, login, session_answer

URL = "/stackone_connect_sessions"


def mints(stackone) -> int:
    return sum(c.request.method == "POST" and c.request.url.endswith("/connect_sessions") for c in stackone.calls)


def attempt(status):
    return {"id": 7, "origin_owner_id": "org-1", "origin_owner_name": "Acme Inc", "provider": "hibob",
            "created_at": "2026-12-01T00:00:00Z", "latest_connection_attempt": {"status": status}}


@pytest.fixture
def reusing(env):
    return create_app({**env, "SESSION_REUSE_WINDOW": "60"}).test_client()


def test_a_double_click_gets_the_same_session_without_asking_stackone(reusing, stackone):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-reused-01"))
    first = reusing.post(URL, json={"provider": "hibob"}, headers=bearer()).get_json()
    again = reusing.post(URL, json={"provider": "hibob"}, headers=bearer()).get_json()
    assert first == again and first["token"] == "tok-reused-01" and mints(stackone) == 1
    assert not [c for c in stackone.calls if c.request.url.endswith("/authenticate")]  # minted seconds ago


def test_a_page_reload_later_in_the_window_gets_the_session_once_stackone_says_it_is_pending(reusing, stackone,
                                                                                             monkeypatch):
    monkeypatch.setattr("minting.reuse.TRUSTED_SECONDS", 0)  # past the first seconds: StackOne is asked
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-reused-02"))
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=attempt("pending"))
    first = reusing.post(URL, json={"provider": "hibob"}, headers=bearer()).get_json()
    again = reusing.post(URL, json={"provider": "hibob"}, headers=bearer()).get_json()
    assert first == again and mints(stackone) == 1


def test_a_session_already_used_to_connect_is_not_handed_out_again(reusing, stackone, monkeypatch):
    monkeypatch.setattr("minting.reuse.TRUSTED_SECONDS", 0)
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-first-001"))
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=attempt("authenticated"))
    reusing.post(URL, json={"provider": "hibob"}, headers=bearer())
    stackone.replace("POST", f"{API}/connect_sessions", status=201, json=session_answer(token="tok-second-02"))
    assert reusing.post(URL, json={"provider": "hibob"}, headers=bearer()).get_json()["token"] == "tok-second-02"
    assert mints(stackone) == 2


def test_reuse_never_crosses_owners_or_decisions(reusing, stackone):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    reusing.post(URL, json={"provider": "hibob"}, headers=bearer())
    other = {"Authorization": f"Bearer {login(org_id='org-2', org_name='Two')}"}
    reusing.post(URL, json={"provider": "hibob"}, headers=other)
    reusing.post(URL, json={"provider": "hibob", "label": "EU"}, headers=bearer())
    reusing.post(URL, json={"provider": "hibob", "expiresIn": 900}, headers=bearer())
    assert mints(stackone) == 4  # no authenticate was needed: nothing was eligible for reuse


def test_a_window_of_zero_turns_reuse_off(client, stackone):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    client.post(URL, json={"provider": "hibob"}, headers=bearer())
    client.post(URL, json={"provider": "hibob"}, headers=bearer())
    assert mints(stackone) == 2


def test_a_link_is_reused_only_while_half_its_lifetime_is_left():
    assert half_life_left({"expires_at": 1000 + 432000 * 0.6, "expires_in": 432000}, now=1000)
    assert not half_life_left({"expires_at": 1000 + 432000 * 0.4, "expires_in": 432000}, now=1000)


@pytest.fixture
def capped(env):
    return create_app({**env, "ACCOUNT_LIMITS": "total=3,hibob=1"}).test_client()


def test_a_session_being_connected_counts_against_the_cap(capped, stackone):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert capped.post(URL, json={"provider": "hibob"}, headers=bearer()).status_code == 200
    refused = capped.post(URL, json={"provider": "hibob"}, headers=bearer())
    body = refused.get_json()
    assert (refused.status_code, body["code"], body["limit"], body["pendingSessions"]) == (
        409, "account_limit", {"name": "hibob", "max": 1}, 1)
    assert mints(stackone) == 1


def test_the_cap_names_the_accounts_that_count_and_a_reconnect_passes(capped, stackone):
    owned = [account("a1", label="EU"), account("a2", provider="greenhouse"), account("h1", provider="hibob"),
             account("old", provider="hibob", status="archived")]
    stackone.get(f"{API}/accounts", json=owned)
    refused = capped.post(URL, json={"provider": "bamboohr", "multiple": True, "label": "US"}, headers=bearer())
    body = refused.get_json()
    assert (refused.status_code, body["limit"]["name"]) == (409, "total")
    assert sorted(a["id"] for a in body["accounts"]) == ["a1", "a2", "h1"]  # archived does not count
    assert mints(stackone) == 0
    stackone.get(f"{API}/accounts/h1", json=account("h1", provider="hibob"))
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert capped.post(URL, json={"accountId": "h1"}, headers=bearer()).status_code == 200  # an update: never capped


def test_a_claim_left_by_a_dead_request_does_not_refuse_the_next_click(env, stackone):
    from minting.reuse import reuse_key
    from policy import Action, Decision, SessionRequest
    from stackone.directory import owner_key

    app = create_app({**env, "SESSION_REUSE_WINDOW": "60", "REQUEST_DEADLINE": "0.5"})
    decision = Decision(Action.CREATE, None)
    wanted = SessionRequest(expires_in=1800, categories=("hris",))
    # A host died mid-mint: its claim stays until it expires.
    app.extensions["stackone_connect"].state.add(reuse_key(owner_key("org-1"), decision, wanted),
                                                 {"state": "pending", "fp": "reuse"}, ttl=120)
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-own-session"))
    answer = app.test_client().post(URL, json={"category": "hris"}, headers=bearer())
    assert answer.status_code == 200 and answer.get_json()["token"] == "tok-own-session"
