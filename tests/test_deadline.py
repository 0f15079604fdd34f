"""REQUEST_DEADLINE: each StackOne call gets only what is left of the request's budget, no retry starts that cannot
finish, and a request whose budget is spent is answered at once with the mapped problem."""

from __future__ import annotations

import time

import pytest

from app import create_app
from tests.helpers import API, account, bearer, session_answer, timeout_of


@pytest.fixture
def tight(env):
    env.update(STACKONE_TIMEOUT="10", REQUEST_DEADLINE="0.8")
    return create_app(env).test_client()


def test_a_call_gets_only_what_is_left_of_the_budget(tight, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert tight.post("/stackone_connect_sessions", json={}, headers=bearer()).status_code == 200
    assert timeout_of(stackone.calls[0]) <= 0.8  # not STACKONE_TIMEOUT's 10 s


def test_without_a_deadline_problem_the_call_keeps_stackone_timeout(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    client.post("/stackone_connect_sessions", json={}, headers=bearer())
    assert 10 <= timeout_of(stackone.calls[0]) <= 12  # min(10 s, the 12 s deadline)


def test_no_retry_starts_that_cannot_finish(env, stackone):
    env.update(REQUEST_DEADLINE="1.5")
    del env["STACKONE_ENABLED_PROVIDERS"]
    client = create_app(env).test_client()
    # StackOne asks us to come back in 5 s: within this request's budget a retry could not finish.
    stackone.get(f"{API}/connectors/meta", status=503, headers={"Retry-After": "5"}, json={"message": "busy"})
    answer = client.get("/stackone_providers", headers=bearer())
    assert (answer.status_code, answer.get_json()["code"]) == (502, "upstream_error")
    assert len(stackone.calls) == 1


def test_a_retry_that_fits_is_still_made(client, stackone):
    stackone.get(f"{API}/accounts", status=502, json={"message": "flaky"})
    stackone.get(f"{API}/accounts", json=[account("a1")])
    assert client.get("/stackone_accounts", headers=bearer()).status_code == 200
    assert len(stackone.calls) == 2


def test_a_request_past_its_budget_is_answered_at_once_without_calling_stackone_again(env, stackone):
    env.update(REQUEST_DEADLINE="0.3")
    client = create_app(env).test_client()

    def slow_accounts(request):
        time.sleep(0.4)  # the lookup spends the whole budget
        return 200, {}, "[]"

    stackone.add_callback("GET", f"{API}/accounts", callback=slow_accounts, content_type="application/json")
    answer = client.post("/stackone_connect_sessions", json={"provider": "bamboohr"}, headers=bearer())
    problem = answer.get_json()
    assert (answer.status_code, problem["code"]) == (504, "upstream_timeout")
    assert answer.headers["Retry-After"] == "1"
    assert [c.request.method for c in stackone.calls] == ["GET"]  # the POST was never sent


@pytest.fixture
def behind_proxy(env):
    env.update(TRUSTED_PROXY_COUNT="1", REQUEST_DEADLINE="2")
    return create_app(env).test_client()


def arrived(seconds_ago: float, scale: int = 1) -> dict[str, str]:
    """nginx's X-Request-Start (t=<epoch>), in seconds (scale 1), milliseconds (1000) or microseconds (10**6)."""
    return {"X-Request-Start": f"t={(time.time() - seconds_ago) * scale:.3f}"}


@pytest.mark.parametrize("scale", [1, 1000, 10**6])
def test_a_request_that_waited_its_budget_in_the_proxys_queue_is_refused_at_once(behind_proxy, stackone, scale):
    answer = behind_proxy.post("/stackone_connect_sessions", json={"category": "hris"},
                               headers={**bearer(), **arrived(2.5, scale)})
    problem = answer.get_json()
    assert (answer.status_code, problem["code"], answer.headers["Retry-After"]) == (503, "service_busy", "1")
    assert "2.5 s in a queue" in problem["detail"] and problem["requestId"] == answer.headers["X-Request-ID"]
    assert len(stackone.calls) == 0  # nothing was sent to StackOne


def test_time_spent_in_the_proxys_queue_comes_off_the_call_budget(behind_proxy, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    answer = behind_proxy.post("/stackone_connect_sessions", json={"category": "hris"},
                               headers={**bearer(), **arrived(1.5)})
    assert answer.status_code == 200
    assert timeout_of(stackone.calls[0]) <= 0.5  # 2 s budget, 1.5 s already spent


@pytest.mark.parametrize("header", ["t=yesterday", "t=-5", "t=nan", "", "t=1e400", f"t={time.time() + 600:.3f}",
                                    f"t={time.time() - 86400:.3f}"])
def test_an_unreadable_or_implausible_arrival_time_is_ignored(behind_proxy, stackone, header):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    answer = behind_proxy.post("/stackone_connect_sessions", json={"category": "hris"},
                               headers={**bearer(), "X-Request-Start": header})
    assert answer.status_code == 200
    assert timeout_of(stackone.calls[0]) > 1.9  # the whole budget


def test_without_a_trusted_proxy_a_client_cannot_claim_it_waited(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    answer = client.post("/stackone_connect_sessions", json={"category": "hris"}, headers={**bearer(), **arrived(60)})
    assert answer.status_code == 200


def test_liveness_is_never_refused_for_waiting(behind_proxy):
    assert behind_proxy.get("/healthz", headers=arrived(30)).status_code == 200


def test_no_request_leaves_its_deadline_to_whatever_runs_next_on_its_thread(env, stackone):
    # The deadline is a context variable (domain/deadline.py); a thread or greenlet serves request after request.
    from domain import deadline

    client = create_app({**env, "TRUSTED_PROXY_COUNT": "1"}).test_client()
    stackone.get(f"{API}/accounts", json=[account()])
    answers = [client.get("/stackone_accounts", headers=bearer()).status_code,  # answered
               client.get("/stackone_accounts").status_code,  # refused at login
               client.get("/stackone_accounts", headers={**bearer(), "X-Request-Start": f"t={time.time() - 60:.3f}"}
                          ).status_code]  # refused by the deadline's own hook: it waited a minute in a queue
    assert answers == [200, 401, 503]
    assert deadline.current() is None
