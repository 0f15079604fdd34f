"""The per-host state folder: what a worker reads back, and what a damaged file reads as."""

import logging
import time

import pytest

from state.files import open_file_state


@pytest.fixture
def state(tmp_path):
    return open_file_state(str(tmp_path / "state"))


def test_a_value_reads_back_as_written_until_it_expires(state, monkeypatch):
    state.set("accounts:o:0:*", [{"id": "acc-1", "name": "Zoë"}], ttl=60)
    assert state.get("accounts:o:0:*") == [{"id": "acc-1", "name": "Zoë"}]
    now = time.time()
    monkeypatch.setattr("state.files.time.time", lambda: now + 61)
    assert state.get("accounts:o:0:*") is None


@pytest.mark.parametrize("damage, warned", [
    (b"{not json", True), (b"\xff\xfe garbage", True), (b"", True), (b'{"expires": "soon", "value": 1}', False),
])
def test_a_damaged_entry_reads_as_absent_and_says_so_without_its_content(state, caplog, damage, warned):
    state.set("k", "v")
    path = state._path("k")
    with open(path, "wb") as handle:
        handle.write(damage)
    with caplog.at_level(logging.WARNING, logger="state.files"):
        assert state.get("k") is None
    assert ("unreadable entry was ignored" in caplog.text) is warned
    assert "garbage" not in caplog.text and "not json" not in caplog.text


def test_set_if_absent_never_deadlocks_on_the_sweep_it_triggers(tmp_path):
    # The sweep takes the add lock; a sweep due inside add (which holds it) once waited for itself forever.
    import threading

    from state.files import PRUNE_EVERY

    state = open_file_state(str(tmp_path / "state"))
    done = threading.Event()

    def many_adds():
        for n in range(PRUNE_EVERY * 2 + 1):
            assert state.add(f"mark-{n}", 1, ttl=60)
        done.set()

    threading.Thread(target=many_adds, daemon=True).start()
    assert done.wait(30), "add() hung on the sweep it triggered"
