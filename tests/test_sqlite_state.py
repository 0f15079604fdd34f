"""The host's state database: what a worker reads back, what a damaged row reads as, the folder's permissions and
start-up (several processes at once: tests/test_sqlite_processes.py)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from config import ConfigError
from state.sqlite_db import DATABASE_NAME
from state.sqlite_state import PRUNE_BATCH, open_sqlite_state
from tests import sqlite_state_kit as kit
from tests.sqlite_state_kit import raw

folder, clock, state = kit.folder, kit.clock, kit.state  # the kit's fixtures


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
