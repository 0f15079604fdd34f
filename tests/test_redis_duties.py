"""Redis's own duties (persistence, maxmemory-policy noeviction), checked once at start on a real redis-server and
said in one line: a WARNING naming what is missing, or that CONFIG was refused, an INFO line when both hold."""

from __future__ import annotations

import logging

import pytest
import redis

from state.redis_duties import report
from state.redis_state import RedisState
from support.redis_server import RedisServer


@pytest.fixture
def server(request, tmp_path):
    """A redis-server started with the test's parameters as its command-line settings."""
    store = RedisServer(tmp_path, *request.param)
    store.start()
    yield store
    store.stop()


def said(server, caplog) -> list[logging.LogRecord]:
    with caplog.at_level(logging.INFO, logger="state.redis_duties"):
        report(redis.Redis.from_url(server.url))
    return [r for r in caplog.records if r.name == "state.redis_duties"]


@pytest.mark.parametrize("server", [("--maxmemory-policy", "allkeys-lru")], indirect=True)
def test_no_persistence_and_eviction_are_one_warning_naming_both(server, caplog):
    [line] = said(server, caplog)
    assert line.levelno == logging.WARNING
    assert "persistence is off" in line.getMessage() and "allkeys-lru, not noeviction" in line.getMessage()


@pytest.mark.parametrize("server", [("--appendonly", "yes"), ("--save", "900", "1")], indirect=True)
def test_aof_or_rdb_with_noeviction_is_an_info_line(server, caplog):
    [line] = said(server, caplog)
    assert line.levelno == logging.INFO and "persistence on" in line.getMessage()


@pytest.mark.parametrize("server", [("--appendonly", "yes", "--rename-command", "CONFIG", "")], indirect=True)
def test_a_redis_that_forbids_config_is_a_warning_that_it_could_not_check(server, caplog):
    [line] = said(server, caplog)
    assert line.levelno == logging.WARNING and "could not be checked" in line.getMessage()
    assert "CONFIG GET is not allowed" in line.getMessage()


@pytest.mark.parametrize("server", [("--save", "", "--appendonly", "no")], indirect=True)
def test_only_the_first_worker_of_a_start_checks(server, caplog):
    from state.redis_duties import start_check

    states = [RedisState(server.url, prefix="duties-test", timeout=0.5) for _ in range(4)]  # four workers
    with caplog.at_level(logging.INFO, logger="state.redis_duties"):
        for thread in [start_check(state, server.url, 0.5) for state in states]:
            thread.join(10)
    lines = [r for r in caplog.records if r.name == "state.redis_duties"]
    assert [r.levelno for r in lines] == [logging.WARNING]
