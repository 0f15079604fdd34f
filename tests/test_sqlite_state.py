"""The host's state database: what a worker reads back, what a damaged row reads as, and several processes at once."""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from config import ConfigError
from errors import StateUnavailable
from state.sqlite_db import DATABASE_NAME, Database
from state.sqlite_state import PRUNE_BATCH, SQLiteState, open_sqlite_state

ROOT = Path(__file__).resolve().parent.parent
# fork: children start at once, and they inherit an open state as gunicorn's workers inherit the master's memory.
FORK = multiprocessing.get_context("fork")


class Clock:
    """A clock the test moves by hand: only the state under test sees it."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def folder(tmp_path):
    return str(tmp_path / "state")


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def state(folder, clock):
    return open_sqlite_state(folder, clock=clock)


def raw(folder: str) -> sqlite3.Connection:
    return sqlite3.connect(os.path.join(folder, DATABASE_NAME), isolation_level=None)


def test_a_value_reads_back_as_written_until_it_expires(state, clock):
    state.set("accounts:o:0:*", [{"id": "acc-1", "name": "Zoë"}], ttl=60)
    state.set("forever", {"n": 1})
    assert state.get("accounts:o:0:*") == [{"id": "acc-1", "name": "Zoë"}]
    clock.now += 61
    assert state.get("accounts:o:0:*") is None
    assert state.get("forever") == {"n": 1}
    assert state.get("never-set") is None


def test_set_if_absent_wins_over_an_absent_or_expired_key_only(state, clock):
    assert state.add("mark", "first", ttl=10)
    assert not state.add("mark", "second", ttl=10)
    assert state.get("mark") == "first"
    clock.now += 10
    assert state.add("mark", "third", ttl=10)
    assert state.get("mark") == "third"
    state.set("kept", 1)  # no expiry: never taken over
    clock.now += 10**9
    assert not state.add("kept", 2, ttl=10)


def test_delete_if_removes_only_the_holders_own_unexpired_value(state, clock):
    assert state.add("lock", "token-a", ttl=5)
    assert not state.delete_if("lock", "token-b")
    assert state.get("lock") == "token-a"
    clock.now += 6  # a's lock lapsed and b took it: a's late release must leave b's alone
    assert state.add("lock", "token-b", ttl=5)
    assert not state.delete_if("lock", "token-a")
    assert state.delete_if("lock", "token-b")
    assert state.get("lock") is None
    assert not state.delete_if("lock", "token-b")


@pytest.mark.parametrize("damage", ["{not json", "\ufffd garbage", ""])
def test_a_damaged_entry_reads_as_absent_and_says_so_without_its_content(state, folder, caplog, damage):
    state.set("k", "v")
    with raw(folder) as conn:
        conn.execute("UPDATE kv SET value = ? WHERE key = 'k'", (damage,))
    with caplog.at_level(logging.WARNING, logger="state.sqlite_state"):
        assert state.get("k") is None
    assert "unreadable entry was ignored" in caplog.text
    assert "garbage" not in caplog.text and "not json" not in caplog.text


def test_expired_rows_are_removed_oldest_first_in_bounded_batches_through_the_expiry_index(state, folder, clock):
    for n in range(PRUNE_BATCH + 10):
        state.set(f"old-{n}", n, ttl=1 + n)
    state.set("fresh", 1, ttl=10_000)
    state.set("forever", 1)
    clock.now += PRUNE_BATCH + 11
    assert state.prune() == PRUNE_BATCH
    assert state.prune() == 10
    assert state.prune() == 0
    with raw(folder) as conn:
        assert {key for (key,) in conn.execute("SELECT key FROM kv")} == {"fresh", "forever"}
        plan = " ".join(str(row[-1]) for row in conn.execute(
            "EXPLAIN QUERY PLAN SELECT key FROM kv WHERE expires IS NOT NULL AND expires <= 1 ORDER BY expires "
            "LIMIT 5"))
    assert "USING COVERING INDEX kv_expires" in plan or "USING INDEX kv_expires" in plan, plan


def test_writes_remove_expired_rows_as_they_go(state, folder, clock):
    for n in range(2000):
        state.set(f"cache-{n}", n, ttl=1)
        clock.now += 0.1
    with raw(folder) as conn:
        (rows,) = conn.execute("SELECT count(*) FROM kv").fetchone()
    assert rows < 2000 * 0.2, "expired rows pile up"


def test_the_folder_and_database_are_owner_only(folder):
    os.umask(old := os.umask(0o022))
    try:
        state = open_sqlite_state(folder)
        state.set("k", "v")
        assert state.get("k") == "v"  # the -wal and -shm files exist while a connection is open
    finally:
        os.umask(old)
    assert os.stat(folder).st_mode & 0o777 == 0o700
    files = {name: os.stat(os.path.join(folder, name)).st_mode & 0o777 for name in os.listdir(folder)}
    assert {DATABASE_NAME, DATABASE_NAME + "-wal", DATABASE_NAME + "-shm"} <= set(files)
    assert set(files.values()) == {0o600}, files


def test_a_database_left_readable_by_others_is_made_owner_only(folder):
    os.makedirs(folder, mode=0o700)
    path = os.path.join(folder, DATABASE_NAME)
    Path(path).touch(mode=0o644)
    os.chmod(path, 0o644)
    open_sqlite_state(folder).set("k", 1)
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_a_folder_others_can_write_into_is_refused(folder):
    os.makedirs(folder, mode=0o700)
    os.chmod(folder, 0o770)
    with pytest.raises(ConfigError, match="must belong to this user and not be writable by others"):
        open_sqlite_state(folder)


@pytest.mark.skipif(os.getuid() != 0, reason="only root can give the folder to another user")
def test_a_folder_of_another_user_is_refused(folder):
    os.makedirs(folder, mode=0o700)
    os.chown(folder, 4242, -1)
    with pytest.raises(ConfigError, match="must belong to this user"):
        open_sqlite_state(folder)


def test_a_file_that_is_not_a_database_refuses_start_up_naming_the_folder(folder):
    os.makedirs(folder, mode=0o700)
    Path(folder, DATABASE_NAME).write_bytes(b"not a database, " * 100)
    with pytest.raises(ConfigError, match="state database in STATE_DIR .* cannot be opened"):
        open_sqlite_state(folder)


def test_an_upgraded_hosts_old_json_files_do_not_stop_start_up(folder):
    os.makedirs(folder, mode=0o700)
    Path(folder, "0" * 64 + ".json").write_text('{"expires": null, "value": [1]}')
    Path(folder, ".add.lock").touch()
    Path(folder, "tmpabc.tmp").write_text("{half")
    state = open_sqlite_state(folder)
    assert state.add("k", 1, ttl=5)
    assert state.ping() is None
    assert Path(folder, ".add.lock").exists()  # left for the operator (or the import) to remove


# --- several processes on one database, as gunicorn's workers -------------------------------------------------------

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
from state.sqlite_state import SQLiteState
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
