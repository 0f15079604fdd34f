"""The host's state database shared by several processes at once: races, torn reads, a held write lock (also
under gevent), and the WAL kept while another process has it open."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from errors import StateUnavailable
from state.sqlite_db import DATABASE_NAME, Database
from state.sqlite_state import SQLiteState, open_sqlite_state
from tests import sqlite_state_kit as kit
from tests.sqlite_state_kit import raw

folder, clock, state = kit.folder, kit.clock, kit.state  # the kit's fixtures

ROOT = Path(__file__).resolve().parent.parent
# fork: children start at once, and they inherit an open state as gunicorn's workers inherit the master's memory.
FORK = multiprocessing.get_context("fork")


def _race_adds(folder, keys, barrier, results):
    state = open_sqlite_state(folder)
    barrier.wait()
    results.put([key for key in keys if state.add(key, os.getpid(), ttl=60)] + [os.getpid()])


def test_one_process_wins_each_set_if_absent_among_many(state, folder):
    state.set("warm-up", 1)  # the children inherit an open connection, as a forked worker would
    keys = [f"mark-{n}" for n in range(40)]
    barrier, results = FORK.Barrier(6), FORK.Queue()
    children = [FORK.Process(target=_race_adds, args=(folder, keys, barrier, results)) for _ in range(6)]
    for child in children:
        child.start()
    outcomes = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(10)
    wins = [key for outcome in outcomes for key in outcome[:-1]]
    assert sorted(wins) == sorted(keys)  # every key won once, none twice
    owner = {key: outcome[-1] for outcome in outcomes for key in outcome[:-1]}
    assert all(state.get(key) == owner[key] for key in keys)


def _write_versions(folder, first, count):
    state = open_sqlite_state(folder)
    for n in range(first, first + count):
        state.set("big", {"n": n, "fill": [n] * 5000})


def _read_versions(folder, writers_done, results):
    state = open_sqlite_state(folder)
    seen, torn = set(), 0
    while not writers_done.is_set():
        value = state.get("big")
        if value is not None:
            seen.add(value["n"])
            torn += value["fill"] != [value["n"]] * 5000
    results.put((len(seen), torn))


def test_readers_never_see_half_a_value_while_other_processes_write(state, folder):
    state.set("big", {"n": -1, "fill": [-1] * 5000})
    writers_done, results = FORK.Event(), FORK.Queue()
    readers = [FORK.Process(target=_read_versions, args=(folder, writers_done, results)) for _ in range(2)]
    writers = [FORK.Process(target=_write_versions, args=(folder, 1000 * w, 150)) for w in range(2)]
    for child in readers + writers:
        child.start()
    for writer in writers:
        writer.join(60)
    writers_done.set()
    outcomes = [results.get(timeout=60) for _ in readers]
    for reader in readers:
        reader.join(10)
    assert all(torn == 0 for _, torn in outcomes), outcomes
    assert all(seen > 1 for seen, _ in outcomes), "the readers ran after the writers: nothing was tested"
    assert state.get("big")["n"] in (149, 1149)


def _hold_write_lock(folder, held, release):
    conn = raw(folder)
    conn.execute("BEGIN IMMEDIATE")
    held.set()
    release.wait(30)
    conn.execute("ROLLBACK")


@pytest.fixture
def locked(folder, state):
    """Another process holds the database's write lock (BEGIN IMMEDIATE) until the test ends."""
    state.set("before", "written")
    held, release = FORK.Event(), FORK.Event()
    holder = FORK.Process(target=_hold_write_lock, args=(folder, held, release))
    holder.start()
    assert held.wait(10)
    yield
    release.set()
    holder.join(10)


@pytest.mark.parametrize("write", [
    lambda s: s.set("k", 1), lambda s: s.add("k", 1, ttl=5), lambda s: s.delete("before"),
    lambda s: s.delete_if("before", "written"),
])
def test_a_write_to_a_locked_database_is_refused_within_its_bound_and_reads_still_answer(folder, clock, locked,
                                                                                          write):
    state = SQLiteState(Database(os.path.join(folder, DATABASE_NAME), wait=0.5), clock=clock)
    started = time.monotonic()
    with pytest.raises(StateUnavailable):
        write(state)
    assert 0.4 <= time.monotonic() - started < 1.5
    assert state.get("before") == "written"  # under WAL a reader never waits for the writer


def test_a_write_proceeds_once_the_lock_is_released_within_the_wait(folder):
    state = open_sqlite_state(folder, wait=10)
    held, release = FORK.Event(), FORK.Event()
    holder = FORK.Process(target=_hold_write_lock, args=(folder, held, release))
    holder.start()
    assert held.wait(10)
    release.set()  # released while the write below is waiting (or before it starts): either way it succeeds
    state.set("k", "after")
    holder.join(10)
    assert state.get("k") == "after"


GEVENT_WAIT = """
import json, sys, time
from gevent import monkey; monkey.patch_all()
import gevent
sys.path.insert(0, sys.argv[1])
from errors import StateUnavailable

from state.sqlite_db import DATABASE_NAME, Database
from state.sqlite_state import SQLiteState, open_sqlite_state
state = SQLiteState(Database(sys.argv[2] + "/" + DATABASE_NAME, wait=1.0))
ticks = []
def tick():
    while True:
        ticks.append(time.monotonic())
        gevent.sleep(0.01)
ticker = gevent.spawn(tick)
gevent.sleep(0.05)
started = time.monotonic()
try:
    state.set("k", 1)
    outcome = "stored"
except StateUnavailable:
    outcome = "unavailable"
elapsed = time.monotonic() - started
during = [t for t in ticks if t >= started]
print(json.dumps({"outcome": outcome, "elapsed": elapsed, "ticks": len(during)}))
"""


def test_a_wait_for_the_lock_lets_the_other_greenlets_of_a_gevent_worker_run(folder, locked):
    done = subprocess.run([sys.executable, "-c", GEVENT_WAIT, str(ROOT), folder], capture_output=True, text=True,
                          timeout=60, cwd="/")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["outcome"] == "unavailable" and result["elapsed"] < 1.5
    # A wait inside SQLite would freeze the ticker for the whole second: it ticks every 10 ms meanwhile.
    assert result["ticks"] >= 30, result


def _open_and_close(folder: str) -> None:
    import sqlite3

    conn = sqlite3.connect(os.path.join(folder, "state.sqlite3"))
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # opens the file: a reader, as any process is
    conn.close()  # the last connection of the host, as it believes, checkpoints and removes the WAL


def test_opening_the_database_again_keeps_this_processs_locks_so_no_other_process_removes_the_wal(tmp_path):
    """Closing any descriptor of the file drops every POSIX lock of the process, those of its open connections too:
    another process closing its last connection would then take the process for gone, checkpoint and remove the WAL
    under it, and its next writes would be lost (seen: events sent twice by two workers)."""
    import multiprocessing

    from state.sqlite_db import open_database

    database = open_database(str(tmp_path))
    with database.connection() as held:
        held.execute("CREATE TABLE IF NOT EXISTS t (x)")
        held.execute("INSERT INTO t VALUES (1)")  # the WAL now holds a frame, and this process a lock on the file
        open_database(str(tmp_path))  # a second store of the same process (the ledger beside the state) opens it
        other = multiprocessing.get_context("spawn").Process(target=_open_and_close, args=(str(tmp_path),))
        other.start()
        other.join(30)
        assert os.path.exists(tmp_path / "state.sqlite3-wal")  # still ours: the other process saw us holding it
        held.execute("INSERT INTO t VALUES (2)")
    assert [r[0] for r in database.read("SELECT x FROM t ORDER BY x")] == [1, 2]
