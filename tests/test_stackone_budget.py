"""StackOne's budget per API key (STACKONE_RATE_LIMIT), spent by every host: an interactive call over it is refused
before StackOne is asked, background work keeps to its share and behind the mints, and a 429 pauses every caller; on
a real redis-server (two apps as two hosts) and on one host without Redis (two workers on one STATE_DIR database)."""

from __future__ import annotations

import pytest

from app import create_app
from config import ConfigError, Settings
from stackone.budget import Budget, Refused, Rule
from stackone.client import StackOneClient
from state import open_sqlite_state
from tests.helpers import API, account, bearer, session_answer

URL = "/stackone_connect_sessions"
# A day's window: a test never straddles its end, so nothing it counted slides out meanwhile.
TEN_A_DAY = "10/day"


def hosts(env, tmp_path, redis_url=None, **settings):
    """Two apps sharing a budget: two hosts on one Redis, or (no redis_url) two workers on one STATE_DIR database."""
    def one(name):
        state_dir = str(tmp_path / (name if redis_url else "state"))
        extra = {"REDIS_URL": redis_url} if redis_url else {}
        return create_app({**env, **extra, **settings, "STATE_DIR": state_dir}).test_client()
    return one("a"), one("b")


def mint(client):
    return client.post(URL, json={"provider": "bamboohr"}, headers=bearer())


def stackone_mints(stackone, times):
    for _ in range(times):
        stackone.get(f"{API}/accounts", json=[])
        stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())


def test_over_the_budget_a_mint_on_any_host_is_503_upstream_busy_before_stackone_is_asked(env, tmp_path, redis_server,
                                                                                         stackone):
    a, b = hosts(env, tmp_path, redis_server.url, STACKONE_RATE_LIMIT="4/day")
    stackone_mints(stackone, 2)  # two calls a mint: the owner's accounts, then the session
    assert mint(a).status_code == 200 and mint(b).status_code == 200
    refused = mint(a)
    assert refused.status_code == 503 and refused.json["code"] == "upstream_busy"
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    assert mint(b).status_code == 503
    assert len(stackone.calls) == 4  # the refused mints never reached StackOne


def test_a_429_on_one_host_pauses_every_host_for_its_retry_after(env, tmp_path, redis_server, stackone):
    a, b = hosts(env, tmp_path, redis_server.url)
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=429, headers={"Retry-After": "20"},
                  json={"statusCode": 429, "message": "Too many requests"})
    first = mint(a)
    assert (first.status_code, first.json["code"], first.headers["Retry-After"]) == (503, "upstream_busy", "20")
    other = mint(b)
    assert other.status_code == 503 and other.json["code"] == "upstream_busy"
    assert 18 <= int(other.headers["Retry-After"]) <= 20
    assert len(stackone.calls) == 2  # host b did not ask StackOne at all


def test_without_redis_each_worker_spends_its_share_and_a_429_pauses_the_other_workers(env, tmp_path, stackone):
    settings = {"STACKONE_RATE_LIMIT": "4/day", "WEB_CONCURRENCY": "2"}
    a, b = hosts(env, tmp_path, **settings)
    stackone_mints(stackone, 1)
    assert mint(a).status_code == 200
    assert mint(a).status_code == 503  # its 2 of the 4 are spent; the other worker's are its own
    stackone.get(f"{API}/accounts", status=429, headers={"Retry-After": "30"}, json={"statusCode": 429})
    assert mint(b).status_code == 503  # StackOne's 429 (not retried: the pause would refuse the retry)
    fresh, _ = hosts(env, tmp_path, **settings)  # a worker with all of its share left, on the same host
    paused = mint(fresh)
    assert paused.status_code == 503 and 28 <= int(paused.headers["Retry-After"]) <= 30
    assert len(stackone.calls) == 3  # the paused worker did not ask StackOne


@pytest.fixture(params=["redis", "one host"])
def budgets(request, tmp_path):
    """Two holders of one 10-a-day budget with a background share of 2: two hosts on Redis, or one process."""
    rule = Rule.parse(TEN_A_DAY, 0.2)
    state = open_sqlite_state(str(tmp_path / "state"))
    if request.param == "one host":
        budget = Budget(rule, state, processes=1)
        return budget, budget
    from support.redis_server import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    request.addfinalizer(server.stop)
    return tuple(Budget(rule, state, processes=1, redis_url=server.url, prefix="budget-test") for _ in "ab")


def spent(budget, background, times):
    """How many of `times` calls the budget let through."""
    allowed = 0
    for _ in range(times):
        try:
            budget.take(background)
            allowed += 1
        except Refused:
            pass
    return allowed


def test_background_work_takes_at_most_its_share_and_the_mints_the_rest(budgets):
    a, b = budgets
    assert spent(a, True, 5) == 2  # 20% of 10
    assert spent(b, False, 20) == 8  # the rest, to the last call


def test_background_work_yields_the_last_share_of_the_budget_to_the_mints(budgets):
    a, b = budgets
    assert spent(a, False, 8) == 8
    assert spent(b, True, 1) == 0  # its share is unused, but only the mints' reserve is left
    assert spent(b, False, 5) == 2


def test_a_background_call_refused_by_the_budget_never_reaches_stackone(env, stackone):
    app = create_app({**env, "STACKONE_RATE_LIMIT": "5/day", "WEB_CONCURRENCY": "1"})
    client = app.extensions["stackone_connect"].client
    stackone.get(f"{API}/accounts/acc-1", json=account())
    with StackOneClient.background():
        assert client.get_account("acc-1").id == "acc-1"  # its share: 1 of 5
        with pytest.raises(Exception) as refused:
            client.get_account("acc-1")
    assert getattr(refused.value, "code", None) == "upstream_busy"
    assert len(stackone.calls) == 1


@pytest.mark.parametrize("name, value", [
    ("STACKONE_RATE_LIMIT", "lots"), ("STACKONE_RATE_LIMIT", "10/minute;100/hour"),
    ("STACKONE_BACKGROUND_SHARE", "0"), ("STACKONE_BACKGROUND_SHARE", "0.8"), ("STACKONE_BACKGROUND_SHARE", "x"),
])
def test_a_budget_setting_out_of_range_stops_start_up_naming_it(env, name, value):
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**env, name: value})


def test_an_empty_rate_limit_counts_nothing(env):
    app = create_app({**env, "STACKONE_RATE_LIMIT": ""})
    assert app.extensions["stackone_connect"].client.budget is None


def test_without_redis_a_worker_sees_another_workers_pause_within_a_second_not_on_every_call(tmp_path, monkeypatch):
    state = open_sqlite_state(str(tmp_path / "state"))
    rule = Rule.parse(TEN_A_DAY, 0.2)
    worker, other = Budget(rule, state, processes=1), Budget(rule, state, processes=1)
    ticks = iter(range(1000))  # the monotonic clock, 0.25 s a call: reads of the pause are counted below
    worker.monotonic = lambda: next(ticks) * 0.25
    reads = []
    get = state.get
    monkeypatch.setattr(state, "get", lambda key: reads.append(key) or get(key))
    worker.take(False)  # t=0: read
    other.pause(30)  # another worker's 429
    worker.take(False)  # t=0.25: within the second, not read again: sent
    with pytest.raises(Refused) as paused:
        for _ in range(4):
            worker.take(False)  # read again by t=1
    assert paused.value.paused and 28 <= paused.value.wait <= 30
    assert len(reads) == 2
