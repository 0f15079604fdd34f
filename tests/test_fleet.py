"""Several instances on one real Redis: shared caches and replay marks, the per-owner limit, an outage and recovery."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import jwt
import pytest
import redis

from app import create_app
from tests.helpers import API, account, bearer, login, session_answer, stackone_signature

SECRET = "whsec_fleet_0123456789"
URL = "/stackone_connect_sessions"


@pytest.fixture
def fleet(env, tmp_path, redis_server):
    """Two app instances, as on two hosts: different STATE_DIRs, one Redis."""
    def host(name):
        return create_app({**env, "REDIS_URL": redis_server.url, "STACKONE_WEBHOOK_SECRETS": SECRET,
                           "STATE_DIR": str(tmp_path / name), "OWNER_RATE_LIMIT": "5/minute"}).test_client()
    return host("a"), host("b")


def deliver(client, account_id="acc-new", owner="org-1"):
    sent_at = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    body = json.dumps({"event": "account.created", "account_id": account_id, "origin_owner_id": owner,
                       "provider": "bamboohr", "sent_at": sent_at}).encode()
    return client.post("/stackone_webhooks", data=body, headers={
        "Content-Type": "application/json", "x-stackone-signature": stackone_signature(SECRET, body)}), body


def test_an_event_on_one_host_reaches_the_other_hosts_cache(fleet, stackone):
    host_a, host_b = fleet
    stackone.get(f"{API}/accounts", json=[])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert host_a.post(URL, json={"provider": "bamboohr"}, headers=bearer()).get_json()["action"] == "create"
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert host_b.post(URL, json={"provider": "bamboohr"}, headers=bearer()).get_json()["action"] == "create"
    assert sum(c.request.method == "GET" for c in stackone.calls) == 1  # B used A's cached lookup, via Redis

    answer, _ = deliver(host_a)
    assert answer.status_code == 200
    stackone.get(f"{API}/accounts", json=[account("acc-new")])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    decided = host_b.post(URL, json={"provider": "bamboohr"}, headers=bearer()).get_json()
    assert (decided["action"], decided["accountId"]) == ("update", "acc-new")


def test_replay_marks_are_shared_and_taken_once(fleet):
    host_a, host_b = fleet
    first, body = deliver(host_a, "acc-once")
    again = host_b.post("/stackone_webhooks", data=body, headers={
        "Content-Type": "application/json", "x-stackone-signature": stackone_signature(SECRET, body)})
    assert (first.get_json()["status"], again.get_json()["status"]) == ("processed", "duplicate")

    _, racing = deliver(host_a, "acc-race")
    answers: list[str] = []
    start = threading.Barrier(16)

    def one(i):
        start.wait()
        client = (host_a, host_b)[i % 2]
        answers.append(client.post("/stackone_webhooks", data=racing, headers={
            "Content-Type": "application/json", "x-stackone-signature": stackone_signature(SECRET, racing)},
        ).get_json()["status"])

    threads = [threading.Thread(target=one, args=(i,)) for i in range(16)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert answers.count("processed") <= 1 and set(answers) <= {"processed", "duplicate"}


def test_the_owner_limit_counts_across_hosts_and_spares_other_owners(fleet, stackone):
    host_a, host_b = fleet
    for _ in range(5):
        stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    answers = [(host_a, host_b)[i % 2].post(URL, json={}, headers=bearer()).status_code for i in range(5)]
    assert answers == [200] * 5
    refused = host_b.post(URL, json={}, headers=bearer())
    problem = refused.get_json()
    assert (refused.status_code, problem["code"]) == (429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60 and refused.mimetype == "application/problem+json"
    assert len(stackone.calls) == 5  # the sixth never reached StackOne

    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    other = host_a.post(URL, json={}, headers=bearer(login(org_id="org-2", org_name="Two")))
    assert other.status_code == 200
    assert host_a.post(URL, json={}).status_code == 401  # no login: a 401, never counted or limited


def test_an_empty_limit_disables_it(env, redis_server, stackone):
    client = create_app({**env, "REDIS_URL": redis_server.url, "OWNER_RATE_LIMIT": ""}).test_client()
    for _ in range(40):
        stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert {client.post(URL, json={}, headers=bearer()).status_code for _ in range(40)} == {200}


def test_redis_down_and_back(fleet, redis_server, stackone, caplog):
    host_a, _ = fleet
    assert host_a.get("/readyz").status_code == 200
    redis_server.stop()

    ready = host_a.get("/readyz")
    assert ready.status_code == 503 and "Redis" in ready.get_json()["reason"]
    assert host_a.get("/healthz").status_code == 200
    stackone.get(f"{API}/accounts", json=[account("acc-1")])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    minted = host_a.post(URL, json={"provider": "bamboohr"}, headers=bearer())
    assert (minted.status_code, minted.get_json()["action"]) == (200, "update")  # live lookup, no cache
    webhook, _ = deliver(host_a, "acc-outage")
    assert (webhook.status_code, webhook.get_json()["code"]) == (503, "state_unavailable")
    assert "Retry-After" in webhook.headers
    warnings = [r for r in caplog.records if "Redis is unavailable" in r.getMessage()]
    assert len(warnings) == 1  # once per interval, not once per request

    redis_server.start()
    assert host_a.get("/readyz").status_code == 200
    again, _ = deliver(host_a, "acc-outage")
    assert again.get_json()["status"] == "processed"  # StackOne's redelivery is acted on once Redis is back


def test_while_redis_is_down_the_limit_counts_per_process_and_resumes_in_redis(fleet, redis_server, stackone):
    host_a, host_b = fleet
    redis_server.stop()
    for _ in range(5):
        stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert [host_a.post(URL, json={}, headers=bearer()).status_code for _ in range(5)] == [200] * 5
    refused = host_a.post(URL, json={}, headers=bearer())
    assert (refused.status_code, refused.get_json()["code"]) == (429, "rate_limited")  # counted, not open
    redis_server.start()
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    # Host B never counted locally; with Redis back it counts there again (the outage's requests were not in it).
    assert host_b.post(URL, json={}, headers=bearer()).status_code == 200
    keys = redis.Redis.from_url(redis_server.url).keys("*limits*")
    assert keys  # counted in Redis again


def test_nothing_in_redis_is_a_pickle(fleet, redis_server, stackone):
    host_a, host_b = fleet
    stackone.get(f"{API}/accounts", json=[account("acc-1")])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    host_a.post(URL, json={"provider": "bamboohr"}, headers=bearer())
    deliver(host_b, "acc-1")
    store = redis.Redis.from_url(redis_server.url)
    keys = store.keys("*")
    assert keys and all(k.startswith(b"stackone-connect-backend:") for k in keys)
    for key in keys:
        kind = store.type(key)
        values = {b"string": lambda k: [store.get(k)], b"list": lambda k: store.lrange(k, 0, -1),
                  b"zset": lambda k: store.zrange(k, 0, -1), b"hash": lambda k: list(store.hgetall(k).values())
                  }[kind](key)
        for value in values:
            assert not value.startswith(b"\x80")  # pickle protocol 2+ opcode
            json.loads(value)  # JSON, or a plain number
        assert store.ttl(key) > 0, key  # everything expires


@pytest.mark.e2e
def test_two_hosts_one_redis_with_real_processes(tmp_path):
    """Two gunicorn masters on one Redis; the sandbox delivers webhooks to host A only; host B sees the account.

    Redis starts late: both hosts come up without it (live, not ready) and become ready once it answers.
    """
    import requests

    from support.redis_server import RedisServer
    from tests.e2e_processes import free_port, gunicorn_hosts, running_sandbox

    store = RedisServer(tmp_path)
    key = "v1.sandbox.fleet_key_0123456789"
    port_a, port_b = free_port(), free_port()
    host_a, host_b = f"http://127.0.0.1:{port_a}", f"http://127.0.0.1:{port_b}"
    common = {"WEB_CONCURRENCY": "1", "OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": "fleet-jwt-secret-0123456789-0123456789",
              "STACKONE_WEBHOOK_SECRETS": SECRET, "REDIS_URL": store.url}
    try:
        with running_sandbox(tmp_path, key, SANDBOX_WEBHOOK_SECRET=SECRET,
                             SANDBOX_WEBHOOK_URL=f"{host_a}/stackone_webhooks") as sandbox_url, \
                gunicorn_hosts(tmp_path, (port_a, port_b), key=key, sandbox_url=sandbox_url, **common):
            for url in (host_a, host_b):
                assert requests.get(f"{url}/readyz", timeout=5).status_code == 503  # started without Redis
            store.start()
            assert {requests.get(f"{url}/readyz", timeout=5).status_code for url in (host_a, host_b)} == {200}

            token = jwt.encode({"org_id": "org-fleet", "org_name": "Fleet", "exp": 2**40}, common["OWNER_JWT_SECRET"],
                               algorithm="HS256")
            headers = {"Authorization": f"Bearer {token}"}
            first = requests.post(f"{host_b}/stackone_connect_sessions", json={"provider": "hibob"}, headers=headers,
                                  timeout=10).json()
            assert first["action"] == "create"  # and host B has now cached "no hibob account yet"
            done = requests.post(f"{sandbox_url}/sandbox/complete", json={"token": first["token"]}, timeout=10).json()
            # The webhook went to host A only; host B's next decision must still see the new account.
            again = requests.post(f"{host_b}/stackone_connect_sessions", json={"provider": "hibob"}, headers=headers,
                                  timeout=10).json()
            assert (again["action"], again["accountId"]) == ("update", done["account"]["id"])
            assert "stackone_webhooks" not in (tmp_path / f"gunicorn-{port_b}.log").read_text()
    finally:
        store.stop()


def test_a_replay_mark_in_redis_outlives_the_freshness_window_and_the_allowed_skew(fleet, redis_server):
    from state import keys
    from webhooks.events import CLOCK_SKEW, REPLAY_WINDOW

    host_a, _ = fleet
    answer, body = deliver(host_a, "acc-ttl")
    assert answer.get_json()["status"] == "processed"
    ttl = redis.Redis.from_url(redis_server.url).ttl(f"stackone-connect-backend:{keys.webhook_replay(body)}")
    assert ttl > REPLAY_WINDOW + CLOCK_SKEW


def test_a_polled_session_is_asked_of_stackone_once_across_hosts_and_settled_by_a_webhook_on_either(
        fleet, redis_server, stackone):
    host_a, host_b = fleet
    token = "sess_tok_fleet_0123456789"
    made = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    stackone.post(f"{API}/connect_sessions/authenticate", status=201, json={
        "origin_owner_id": "org-1", "origin_owner_name": "Acme Inc", "provider": "bamboohr", "created_at": made})
    stackone.get(f"{API}/accounts", json=[])
    polls = [(host_a, host_b)[i % 2].post(f"{URL}/status", json={"token": token}, headers=bearer()) for i in range(6)]
    assert [p.get_json()["status"] for p in polls] == ["pending"] * 6
    assert len(stackone.calls) == 2  # one look (the session, then the owner's accounts) for six polls on two hosts

    deliver(host_a, "acc-polled")  # account.created for org-1's bamboohr, on host A
    settled = host_b.post(f"{URL}/status", json={"token": token}, headers=bearer()).get_json()
    assert (settled["status"], settled["accountId"]) == ("authenticated", "acc-polled")
    assert len(stackone.calls) == 2
    store = redis.Redis.from_url(redis_server.url)
    assert not any(token.encode() in key or token.encode() in (store.get(key) or b"")
                   for key in store.keys("*") if store.type(key) == b"string")  # only the token's digest is a key
