"""State every worker must agree on (caches, invalidation, replay marks): one small interface, its backends."""

from config import StateSettings
from state.base import SharedState
from state.sqlite_state import SQLiteState, open_sqlite_state

__all__ = ["SQLiteState", "SharedState", "open_sqlite_state", "open_state"]


def open_state(settings: StateSettings) -> SharedState:
    """Redis when REDIS_URL is set (a fleet), else STATE_DIR's database (one host). Neither connects here."""
    if settings.redis_url:
        from state.redis_state import RedisState

        return RedisState(settings.redis_url, prefix=settings.redis_key_prefix, timeout=settings.redis_timeout)
    return open_sqlite_state(settings.state_dir)
