"""The host's SQLite database in STATE_DIR: connections with the service's pragmas, short transactions, bounded waits.

Under gunicorn's gevent worker a call into sqlite3 never yields: while SQLite waits for a lock, every greenlet of the
worker waits with it. So SQLite itself waits only BUSY_TIMEOUT_MS; past that, this module sleeps with time.sleep
(which gevent makes cooperative) and tries again, until a deadline, then raises StateUnavailable. Every read-then-write
runs in BEGIN IMMEDIATE, which takes the write lock at its start: a deferred transaction that read first could find
another writer in between and fail half-way instead of waiting.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from config import ConfigError
from errors import StateUnavailable

log = logging.getLogger(__name__)

DATABASE_NAME = "state.sqlite3"
BUSY_TIMEOUT_MS = 10  # SQLite's own wait, which blocks the whole gevent worker: kept to a few milliseconds
DEFAULT_WAIT = 2.0  # seconds a caller waits for the write lock, at most, before StateUnavailable
FIRST_PAUSE, LONGEST_PAUSE = 0.002, 0.05  # the cooperative retry's sleeps, doubling
IDLE_CONNECTIONS = 4  # kept open per process; more are opened when that many are in use at once, then closed
WARN_EVERY = 30.0
_BUSY_CODES = {sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED}
_last_warning = 0.0
# Connections opened before a fork are never used, nor closed, in the child (sqlite.org's "How To Corrupt", 2.6):
# they are kept here so that garbage collection does not close them either.
_inherited: list[sqlite3.Connection] = []

T = TypeVar("T")


class Busy(Exception):
    """The write lock stayed taken until the deadline (turned into StateUnavailable by the caller's boundary)."""


def _is_busy(exc: sqlite3.Error) -> bool:
    return (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _BUSY_CODES


def _warn(reason: str) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= WARN_EVERY:  # one line per interval: a long lock or a full disk must not flood the log
        _last_warning = now
        log.warning("shared state database unavailable (%s); what needs it is refused with 503", reason)


class Database:
    """One SQLite file shared by every worker on the host; a small pool of connections per process."""

    def __init__(self, path: str, *, wait: float = DEFAULT_WAIT) -> None:
        self.path = path
        self.wait = wait
        self._idle: list[sqlite3.Connection] = []
        self._pid = os.getpid()

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit BEGIN; every transaction is the explicit one transaction() opens.
        # check_same_thread=False: a pooled connection serves whichever thread takes it (one at a time).
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                               check_same_thread=False, cached_statements=64)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA synchronous = NORMAL")  # under WAL: durable across a crash of the process, not of power
        return conn

    def _checkout(self) -> sqlite3.Connection:
        if self._pid != os.getpid():
            _inherited.extend(self._idle)
            self._idle, self._pid = [], os.getpid()
        # list.pop and append are atomic under the GIL, and never yield under gevent: no lock needed.
        try:
            return self._idle.pop()
        except IndexError:
            return self._connect()

    def _checkin(self, conn: sqlite3.Connection) -> None:
        if len(self._idle) < IDLE_CONNECTIONS and not conn.in_transaction:
            self._idle.append(conn)
        else:
            conn.close()

    @contextmanager
    def connection(self) -> Iterator[sqlite3.Connection]:
        """A connection for this thread or greenlet alone, returned to the pool afterwards."""
        conn = self._checkout()
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # a failure mid-transaction: undo it before anyone else gets the connection
                conn.rollback()
            raise
        finally:
            self._checkin(conn)

    def retrying(self, attempt: Callable[[], T]) -> T:
        """attempt(), tried again after a cooperative sleep while SQLite says busy, until `wait` seconds have passed."""
        deadline = time.monotonic() + self.wait
        pause = FIRST_PAUSE
        while True:
            try:
                return attempt()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
                if time.monotonic() + pause >= deadline:
                    raise Busy() from None
            time.sleep(pause)
            pause = min(pause * 2, LONGEST_PAUSE)

    @contextmanager
    def transaction(self, immediate: bool = True) -> Iterator[sqlite3.Connection]:
        """A connection inside BEGIN IMMEDIATE (or DEFERRED), committed when the block ends, rolled back on error.

        Waits for the write lock cooperatively (see the module's docstring); any SQLite failure, or a lock still
        held at the deadline, is raised as StateUnavailable. Keep the block short and free of network calls: the
        write lock stops every other writer on the host while it is held.
        """
        with self._answering(), self.connection() as conn:
            self.retrying(lambda: conn.execute("BEGIN IMMEDIATE" if immediate else "BEGIN"))
            yield conn
            conn.execute("COMMIT")

    def read(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """The rows of one read statement, outside any transaction (under WAL a read never waits for a writer)."""
        return self._one_statement(lambda conn: conn.execute(sql, params).fetchall())

    def write(self, sql: str, params: Sequence = ()) -> int:
        """Run one write statement on its own (it takes the write lock for its duration); returns the rows changed.

        Only for a write that reads nothing first: a read-then-write belongs in transaction().
        """
        return self._one_statement(lambda conn: conn.execute(sql, params).rowcount)

    def _one_statement(self, run: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._checkout()
        try:
            return run(conn)  # the common case, on the hot path: no wait, no error, no context managers
        except sqlite3.Error:
            pass  # busy, or failed: tried again below, where a wait is bounded and a failure reported
        finally:
            self._checkin(conn)
        # A statement refused (busy or failed) changed nothing, so trying it again is safe.
        with self._answering(), self.connection() as conn:
            return self.retrying(lambda: run(conn))

    @contextmanager
    def _answering(self) -> Iterator[None]:
        # The boundary: callers see StateUnavailable, never a sqlite3 exception (whose text may quote a statement).
        try:
            yield
        except Busy:
            raise self.unavailable("locked") from None
        except sqlite3.Error as exc:
            raise self.unavailable(getattr(exc, "sqlite_errorname", type(exc).__name__)) from None

    def unavailable(self, reason: str) -> StateUnavailable:
        """The error a caller gets (and the throttled log line) when the database cannot answer."""
        _warn(reason)
        return StateUnavailable("Shared state (the host's database) is unavailable; try again shortly",
                                headers={"Retry-After": "1"})

    def ping(self) -> str | None:
        """None when the database answers and can be written, else why not (for /readyz)."""
        if not os.access(self.path, os.W_OK) or not os.access(os.path.dirname(self.path), os.W_OK):
            return f"the state database in {os.path.dirname(self.path)} is not writable"
        try:
            self.read("SELECT 1")
        except StateUnavailable:
            return "the state database does not answer"
        return None


def check_folder(folder: str) -> None:
    """Create STATE_DIR owner-only if absent; refuse one that others could write into."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder)
    except OSError as exc:
        raise ConfigError(f"STATE_DIR {folder!r} cannot be created ({exc.strerror})") from None
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise ConfigError(f"STATE_DIR {folder!r} must belong to this user and not be writable by others")


def _create_owner_only(path: str) -> None:
    # Created here, 0600, before SQLite opens it: SQLite would create it 0644 (less the umask), and gives its -wal
    # and -shm files the database file's own mode. Only when absent (O_EXCL): closing any descriptor of a file drops
    # every POSIX lock this process holds on it, those of its open SQLite connections included (SQLite's documented
    # hazard), after which another process may checkpoint and remove the WAL under them and their writes are lost.
    try:
        os.close(os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError as exc:
        raise ConfigError(f"the state database {path!r} cannot be created ({exc.strerror})") from None
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ConfigError(f"the state database {path!r} cannot be read ({exc.strerror})") from None
    if info.st_uid != os.getuid():
        raise ConfigError(f"the state database {path!r} must belong to this user")
    if info.st_mode & 0o077:
        os.chmod(path, 0o600)


def open_database(folder: str, schema: Sequence[str] = (), *, wait: float = DEFAULT_WAIT) -> Database:
    """Open (creating it owner-only) STATE_DIR's database in WAL mode, with `schema` applied; no connection stays open.

    `schema` holds idempotent statements (CREATE ... IF NOT EXISTS). Other files in the folder are left alone.
    """
    check_folder(folder)
    path = os.path.join(folder, DATABASE_NAME)
    _create_owner_only(path)
    database = Database(path, wait=wait)
    # A connection of its own, closed here: gunicorn's master opens the database before forking its workers.
    try:
        conn = database._connect()
        try:
            # Persistent in the file: readers never wait for the writer, the writer never waits for readers.
            database.retrying(lambda: conn.execute("PRAGMA journal_mode = WAL").fetchone())
            database.retrying(lambda: conn.execute("BEGIN IMMEDIATE"))
            for statement in schema:
                conn.execute(statement)
            conn.execute("COMMIT")
        finally:
            conn.close()
    except (sqlite3.Error, Busy) as exc:
        reason = getattr(exc, "sqlite_errorname", None) or ("locked" if isinstance(exc, Busy) else str(exc))
        raise ConfigError(f"the state database in STATE_DIR {folder!r} cannot be opened ({reason})") from None
    return database
