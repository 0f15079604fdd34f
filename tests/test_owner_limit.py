"""The per-owner limit without Redis: counted per process in limits' memory storage, swept once a minute."""

from __future__ import annotations

import threading
import time

from app import create_app
from ratelimit.memory import SweptMemoryStorage
from tests.helpers import API, bearer, login, session_answer

URL = "/stackone_connect_sessions"


def test_without_redis_the_limit_is_counted_in_the_process_and_spares_other_owners(env, stackone):
    client = create_app({**env, "OWNER_RATE_LIMIT": "3/minute"}).test_client()
    for _ in range(4):
        stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert [client.post(URL, json={}, headers=bearer()).status_code for _ in range(3)] == [200] * 3
    refused = client.post(URL, json={}, headers=bearer())
    assert (refused.status_code, refused.get_json()["code"]) == (429, "rate_limited")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    other = client.post(URL, json={}, headers=bearer(login(org_id="org-2", org_name="Two")))
    assert other.status_code == 200
    assert len(stackone.calls) == 4  # the refused request never reached StackOne


def test_an_owner_may_call_again_as_soon_as_the_window_has_passed(env, stackone):
    client = create_app({**env, "OWNER_RATE_LIMIT": "2/second"}).test_client()
    for _ in range(3):
        stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert [client.post(URL, json={}, headers=bearer()).status_code for _ in range(3)] == [200, 200, 429]
    time.sleep(1.05)  # the window has passed, whether or not the sweep has run yet
    assert client.post(URL, json={}, headers=bearer()).status_code == 200


def test_expired_entries_are_swept_once_per_interval_not_every_10_ms():
    storage = SweptMemoryStorage(sweep_seconds=0.5)
    for owner in range(200):
        assert storage.acquire_entry(f"owner-{owner}", limit=5, expiry=0.05)

    def keep_busy(seconds: float) -> None:
        """Another owner's steady traffic: each count may find the sweep due."""
        until = time.monotonic() + seconds
        while time.monotonic() < until:
            storage.acquire_entry("busy", limit=1000, expiry=0.05)
            time.sleep(0.005)

    keep_busy(0.3)
    # Long expired; limits' own storage, sweeping every 10 ms while counts arrive, would have dropped them by now.
    assert sum(bool(storage.events[f"owner-{n}"]) for n in range(200)) == 200
    keep_busy(0.5)
    assert not any(storage.events.get(f"owner-{n}") for n in range(200))  # reclaimed by the sweep that came due


def test_the_default_sweep_runs_in_the_count_without_a_timer_thread():
    storage = SweptMemoryStorage()
    assert storage.sweep_seconds == 60
    time.sleep(0.05)  # limits' constructor starts one 10 ms timer of its own, once
    threads = threading.active_count()
    for n in range(100):
        storage.acquire_entry(f"owner-{n}", limit=5, expiry=60)
    assert threading.active_count() <= threads  # limits' own storage starts a timer thread as counts arrive


def test_cors_preflights_are_not_counted(env, stackone):
    page = "https://app.example.com"
    client = create_app({**env, "OWNER_RATE_LIMIT": "1/minute", "CORS_ALLOWED_ORIGINS": page}).test_client()
    for _ in range(3):
        preflight = client.options(URL, headers={**bearer(), "Origin": page,
                                                 "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 200
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    assert client.post(URL, json={}, headers={**bearer(), "Origin": page}).status_code == 200


def test_the_per_process_limit_tracks_at_most_max_keys_dropping_the_least_recently_counted():
    from limits import parse_many
    from limits.strategies import MovingWindowRateLimiter

    storage = SweptMemoryStorage(max_keys=3)
    limiter = MovingWindowRateLimiter(storage)
    rule = parse_many("2/hour")[0]
    for owner in ("a", "b", "c"):
        limiter.hit(rule, "owner", owner)
    limiter.hit(rule, "owner", "a")  # a is now the most recent; b the least
    limiter.hit(rule, "owner", "d")
    tracked = {key.split("/")[2] for key in storage.events}
    assert tracked == {"a", "c", "d"}
    assert not limiter.hit(rule, "owner", "a")  # a kept its count: its third request this hour is refused
    assert limiter.hit(rule, "owner", "b")  # b was forgotten: counted afresh


def test_the_default_cap_bounds_the_owners_one_worker_tracks(env):
    from ratelimit import OwnerLimit
    from ratelimit.memory import MAX_TRACKED_OWNERS

    limit = OwnerLimit(create_app(env).extensions["stackone_connect"].settings)
    for n in range(MAX_TRACKED_OWNERS + 500):
        assert limit.take(f"owner-{n}") is None
    assert len(limit._local.storage.events) == MAX_TRACKED_OWNERS * len(limit.rules)
