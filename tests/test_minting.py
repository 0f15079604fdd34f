"""Live-session reuse and account caps over HTTP (StackOne played by responses)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app import create_app
from sessions.reuse import half_life_left
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
    monkeypatch.setattr("sessions.reuse.TRUSTED_SECONDS", 0)  # past the first seconds: StackOne is asked
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-reused-02"))
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=attempt("pending"))
    first = reusing.post(URL, json={"provider": "hibob"}, headers=bearer()).get_json()
    again = reusing.post(URL, json={"provider": "hibob"}, headers=bearer()).get_json()
    assert first == again and mints(stackone) == 1


def test_a_session_already_used_to_connect_is_not_handed_out_again(reusing, stackone, monkeypatch):
    monkeypatch.setattr("sessions.reuse.TRUSTED_SECONDS", 0)
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-first-001"))
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=attempt("authenticated"))
    reusing.post(URL, json={"provider": "hibob"}, headers=bearer())
    stackone.replace("POST", f"{API}/connect_sessions", status=201, json=session_answer(token="tok-second-02"))
    assert reusing.post(URL, json={"provider": "hibob"}, headers=bearer()).get_json()["token"] == "tok-second-02"
    assert mints(stackone) == 2


def test_reuse_never_crosses_the_users_of_one_organisation(reusing, stackone):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    reusing.post(URL, json={"provider": "hibob"}, headers=bearer())
    reusing.post(URL, json={"provider": "hibob"}, headers=bearer(email="bob@acme.test"))
    reusing.post(URL, json={"provider": "hibob", "originUsername": "carol@acme.test"}, headers=bearer())
    reusing.post(URL, json={"provider": "hibob"}, headers=bearer(org_name="Acme Renamed"))
    reusing.post("/stackone_auth_links", json={"provider": "hibob", "expiresIn": 1800}, headers=bearer())
    sent = [json.loads(c.request.body) for c in stackone.calls if c.request.url.endswith("/connect_sessions")]
    assert [s.get("origin_username") for s in sent] == ["ann@acme.test", "bob@acme.test", "carol@acme.test",
                                                        "ann@acme.test", "ann@acme.test"]


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
    refused = capped.post(URL, json={"provider": "hibob"}, headers=bearer(email="bob@acme.test"))
    body = refused.get_json()
    assert (refused.status_code, body["code"], body["limit"], body["pendingSessions"]) == (
        409, "account_limit", {"name": "hibob", "max": 1}, 1)
    # The colleague is told whose session holds the place, for what, until when, and how it is freed.
    assert [(p["username"], p["provider"], p["kind"]) for p in body["pending"]] == [("ann@acme.test", "hibob",
                                                                                       "session")]
    assert "held by ann@acme.test" in body["detail"] and "closed without connecting" in body["detail"]
    assert "reconnect or disconnect" not in body["detail"]  # nothing is connected: nothing to reconnect
    assert mints(stackone) == 1


def test_the_holder_of_a_pending_place_gets_their_session_again_not_a_refusal(capped, stackone, monkeypatch):
    monkeypatch.setattr("sessions.reuse.TRUSTED_SECONDS", 0)  # as if a minute later: StackOne is asked
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-held-0001"))
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json=attempt("pending"))
    first = capped.post(URL, json={"provider": "hibob"}, headers=bearer()).get_json()
    again = capped.post(URL, json={"provider": "hibob"}, headers=bearer())
    assert again.status_code == 200 and again.get_json()["token"] == first["token"] == "tok-held-0001"
    assert mints(stackone) == 1


def test_a_released_session_frees_its_place_and_is_not_handed_out_again(capped, stackone):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-closed-01"))
    capped.post(URL, json={"provider": "hibob"}, headers=bearer())
    # Another organisation's page cannot free it, and is not told whether the token meant anything.
    stranger = capped.post(f"{URL}/release", json={"token": "tok-closed-01"}, headers=bearer(org_id="org-2"))
    assert stranger.status_code == 204
    assert capped.post(URL, json={"provider": "hibob"}, headers=bearer(email="bob@acme.test")).status_code == 409
    assert capped.post(f"{URL}/release", json={"token": "tok-closed-01"}, headers=bearer()).status_code == 204
    stackone.replace("POST", f"{API}/connect_sessions", status=201, json=session_answer(token="tok-fresh-002"))
    fresh = capped.post(URL, json={"provider": "hibob"}, headers=bearer())
    assert fresh.status_code == 200 and fresh.get_json()["token"] == "tok-fresh-002"
    assert mints(stackone) == 2


def test_a_release_without_caps_frees_nothing_and_says_204(client):
    assert client.post(f"{URL}/release", json={"token": "tok-whatever-1"}, headers=bearer()).status_code == 204
    assert client.post(f"{URL}/release", json={"token": "no"}, headers=bearer()).status_code == 422
    assert client.post(f"{URL}/release", json={"token": "tok-whatever-1"}).status_code == 401


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
    from identity.owner import Owner
    from policy import Action, Decision, SessionRequest
    from sessions.reuse import reuse_key

    app = create_app({**env, "SESSION_REUSE_WINDOW": "60", "REQUEST_DEADLINE": "0.5"})
    decision = Decision(Action.CREATE, None)
    wanted = SessionRequest(expires_in=1800, categories=("hris",))
    # A host died mid-mint: its claim stays until it expires.
    ann = Owner("org-1", "Acme Inc", "ann@acme.test")
    app.extensions["stackone_connect"].state.add(reuse_key(ann, decision, wanted), {"state": "pending", "fp": "reuse"},
                                                 ttl=120)
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-own-session"))
    answer = app.test_client().post(URL, json={"category": "hris"}, headers=bearer())
    assert answer.status_code == 200 and answer.get_json()["token"] == "tok-own-session"


def test_caps_fail_closed_while_redis_is_down(env, stackone):
    from tests.e2e_processes import free_port

    down = create_app({**env, "ACCOUNT_LIMITS": "hibob=1", "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    stackone.get(f"{API}/accounts", json=[])
    refused = down.test_client().post(URL, json={"provider": "hibob"}, headers=bearer())
    assert (refused.status_code, refused.get_json()["code"]) == (503, "state_unavailable")
    assert "Retry-After" in refused.headers and mints(stackone) == 0


def test_a_kept_session_that_a_page_polls_is_handed_out_again_without_asking_stackone(reusing, stackone,
                                                                                     monkeypatch):
    monkeypatch.setattr("sessions.reuse.TRUSTED_SECONDS", 0)  # past the first seconds: a check is needed
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-polled-01"))
    now = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json={**attempt("pending"), "created_at": now})
    first = reusing.post(URL, json={"provider": "hibob"}, headers=bearer()).get_json()
    polled = reusing.post(f"{URL}/status", json={"token": first["token"]}, headers=bearer())
    assert polled.get_json()["status"] == "pending"  # the page's poll keeps the outcome for a few seconds
    again = reusing.post(URL, json={"provider": "hibob"}, headers=bearer()).get_json()
    assert again["token"] == "tok-polled-01" and mints(stackone) == 1
    assert sum(c.request.url.endswith("/authenticate") for c in stackone.calls) == 1  # the poll's, not a second


def test_a_slow_check_of_a_kept_session_gives_way_to_a_fresh_mint_within_the_deadline(env, stackone, monkeypatch):
    import time

    import requests

    monkeypatch.setattr("sessions.reuse.TRUSTED_SECONDS", 0)
    app = create_app({**env, "SESSION_REUSE_WINDOW": "60", "STACKONE_TIMEOUT": "3", "REQUEST_DEADLINE": "3"})
    client = app.test_client()
    timeouts = []

    def slow_stackone(request):
        # As a StackOne taking 2 s would be met: the client's timeout is the most it may wait.
        timeouts.append(getattr(request.req_kwargs["timeout"], "total", None))
        raise requests.ReadTimeout("StackOne took longer than the timeout")

    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-kept-0001"))
    stackone.add_callback("POST", f"{API}/connect_sessions/authenticate", callback=slow_stackone)
    client.post(URL, json={"provider": "hibob"}, headers=bearer())
    stackone.replace("POST", f"{API}/connect_sessions", status=201, json=session_answer(token="tok-fresh-0002"))
    started = time.monotonic()
    again = client.post(URL, json={"provider": "hibob"}, headers=bearer())
    assert again.status_code == 200 and again.get_json()["token"] == "tok-fresh-0002"
    # The check could spend a third of what was left at most (about 1 s of 3), so a mint still fitted.
    assert len(timeouts) == 1 and timeouts[0] <= 1.05 and time.monotonic() - started < 3


def test_a_link_is_not_released_by_its_token(capped, stackone):
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-link-0001"))
    assert capped.post("/stackone_auth_links", json={"provider": "hibob"}, headers=bearer()).status_code == 200
    assert capped.post(f"{URL}/release", json={"token": "tok-link-0001"}, headers=bearer()).status_code == 204
    # The link went to someone who may still use it: its place stays held.
    refused = capped.post(URL, json={"provider": "hibob"}, headers=bearer(email="bob@acme.test"))
    assert refused.status_code == 409 and refused.get_json()["pending"][0]["kind"] == "link"


def test_many_reloads_of_a_kept_session_past_its_trust_ask_stackone_once(reusing, stackone, monkeypatch):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from sessions.status import SessionPolls

    monkeypatch.setattr("sessions.reuse.TRUSTED_SECONDS", 0)  # past the first seconds: a check is needed
    callers = 8
    waiting = threading.Semaphore(0)
    awaited = SessionPolls._awaited

    def counted(self, token, give_up_at):
        waiting.release()  # this caller found another's check under way
        return awaited(self, token, give_up_at)

    monkeypatch.setattr(SessionPolls, "_awaited", counted)

    def pending_once_all_wait(request):
        # StackOne answers the one check only once every other caller is waiting for it.
        for _ in range(callers - 1):
            assert waiting.acquire(timeout=5)
        return 201, {}, json.dumps(attempt("pending"))

    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok-kept-stale1"))
    stackone.add_callback("POST", f"{API}/connect_sessions/authenticate", callback=pending_once_all_wait)
    assert reusing.post(URL, json={"provider": "hibob"}, headers=bearer()).status_code == 200

    def reload(_):
        return reusing.application.test_client().post(URL, json={"provider": "hibob"}, headers=bearer()).get_json()

    with ThreadPoolExecutor(callers) as pool:
        answers = list(pool.map(reload, range(callers)))
    assert [a["token"] for a in answers] == ["tok-kept-stale1"] * callers
    assert sum(c.request.url.endswith("/authenticate") for c in stackone.calls) == 1 and mints(stackone) == 1
