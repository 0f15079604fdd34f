"""A cache every gunicorn worker on this host shares (cachelib's FileSystemCache in a private folder)."""

from __future__ import annotations

import os

from cachelib import FileSystemCache

from config import ConfigError


def open_shared_state(state_dir: str) -> FileSystemCache:
    """Open (and create, owner-only) the folder behind the cache; entries are pickles, so nobody else may write."""
    try:
        os.makedirs(state_dir, mode=0o700, exist_ok=True)
        info = os.stat(state_dir)
    except OSError as exc:
        raise ConfigError(f"STATE_DIR {state_dir!r} cannot be created ({exc.strerror})") from None
    if info.st_uid != os.getuid() or info.st_mode & 0o022:
        raise ConfigError(f"STATE_DIR {state_dir!r} must belong to this user and not be writable by others")
    return FileSystemCache(state_dir, threshold=20000, default_timeout=0, mode=0o600)
