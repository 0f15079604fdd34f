"""Fixtures for the host's state database tests: a folder, a clock the test moves by hand, the state on both."""

from __future__ import annotations

import os
import sqlite3

import pytest

from state.sqlite_db import DATABASE_NAME
from state.sqlite_state import open_sqlite_state


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
