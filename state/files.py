"""The per-host backend: one JSON file per key in an owner-only folder, shared by every worker on the host."""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import tempfile
import time
from contextlib import contextmanager
from typing import Any

from config import ConfigError

log = logging.getLogger(__name__)


PRUNE_EVERY = 500  # writes between sweeps of expired files


class FileState:
    """Implements state.SharedState on a local folder; writes are atomic renames, `add` holds a host-wide lock."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self._lock_path = os.path.join(folder, ".add.lock")
        self._writes = 0
        self._next_prune = PRUNE_EVERY

    def _path(self, key: str) -> str:
        # Hashed names: keys may hold owner ids, which must not become file names (or reach a listing).
        return os.path.join(self.folder, hashlib.sha256(key.encode()).hexdigest() + ".json")

    def _read(self, path: str) -> Any | None:
        try:
            # Unbuffered bytes: a cached entry is read whole, and a text wrapper around it costs more than the parse.
            with open(path, "rb", buffering=0) as handle:
                entry = json.loads(handle.read())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            log.warning("shared state: an unreadable entry was ignored")
            return None
        expires = entry.get("expires") if isinstance(entry, dict) else 0
        if expires is not None and (not isinstance(expires, (int, float)) or expires <= time.time()):
            return None
        return entry.get("value")

    def get(self, key: str) -> Any | None:
        """The value, or None when absent, expired or unreadable."""
        return self._read(self._path(key))

    def set(self, key: str, value: Any, ttl: float | None = None) -> None:
        """Store value for ttl seconds (None: until replaced); readers see the old or the new file, never half."""
        self._write(key, value, ttl)
        self._maybe_prune()

    def _write(self, key: str, value: Any, ttl: float | None) -> None:
        entry = {"expires": None if ttl is None else time.time() + ttl, "value": value}
        # Encoded whole and written with one system call: json.dump into a text file writes piece by piece.
        data = json.dumps(entry, separators=(",", ":")).encode()
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            try:
                view = memoryview(data)
                while view:  # a regular file takes it all at once; a short write is finished all the same
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.replace(tmp, self._path(key))
        except BaseException:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass
            raise
        self._writes += 1

    def _maybe_prune(self) -> None:
        # Never while the add lock is held: prune takes it too, and flock on a second handle of the same file
        # would wait for the first forever.
        if self._writes >= self._next_prune:
            self._next_prune = self._writes + PRUNE_EVERY
            self.prune()

    def prune(self) -> int:
        """Delete expired entries (superseded cache generations, old replay marks); returns how many."""
        removed = 0
        now = time.time()
        # Under the add lock, so a replay mark taken meanwhile is never swept (a cache entry may be: a miss).
        with self._locked():
            for entry in os.scandir(self.folder):
                stale_tmp = entry.name.endswith(".tmp") and entry.stat().st_mtime < now - 3600
                if stale_tmp or (entry.name.endswith(".json") and self._read(entry.path) is None):
                    try:
                        os.unlink(entry.path)
                        removed += 1
                    except FileNotFoundError:
                        pass
        return removed

    def add(self, key: str, value: Any, ttl: float) -> bool:
        """Store value only if the key is absent or expired; one winner across every process on the host."""
        path = self._path(key)
        with self._locked():
            if self._read(path) is not None:
                return False
            self._write(key, value, ttl)
        self._maybe_prune()
        return True

    def delete(self, key: str) -> None:
        """Remove the key if present."""
        try:
            os.unlink(self._path(key))
        except FileNotFoundError:
            pass

    def delete_if(self, key: str, value: Any) -> bool:
        """Remove the key only if it holds `value` (unexpired), under the host lock `add` takes."""
        path = self._path(key)
        with self._locked():
            if self._read(path) != value:
                return False
            self.delete(key)
        return True

    def renew_if(self, key: str, value: Any, ttl: float) -> bool:
        """Rewrite the entry to expire `ttl` s from now only if it holds `value` (unexpired), under the host lock."""
        with self._locked():
            if self._read(self._path(key)) != value:
                return False
            self._write(key, value, ttl)
        return True

    def ping(self) -> str | None:
        """None while the folder is writable, else why not."""
        return None if os.access(self.folder, os.W_OK) else f"STATE_DIR {self.folder} is not writable"

    @contextmanager
    def _locked(self):
        # flock is released by the kernel if the holder dies, so a crashed worker cannot wedge the others.
        with open(self._lock_path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def open_file_state(folder: str) -> FileState:
    """Open (and create, owner-only) the folder; refuse one that others could write into."""
    try:
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder)
    except OSError as exc:
        raise ConfigError(f"STATE_DIR {folder!r} cannot be created ({exc.strerror})") from None
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise ConfigError(f"STATE_DIR {folder!r} must belong to this user and not be writable by others")
    return FileState(folder)
