"""State every worker must agree on (caches, invalidation, replay marks): one small interface, its backends."""

from config import Settings
from state.base import SharedState
from state.files import FileState, open_file_state

__all__ = ["FileState", "SharedState", "open_file_state", "open_state"]


def open_state(settings: Settings) -> SharedState:
    """Redis when REDIS_URL is set (a fleet), else the per-host folder (one host). Neither connects here."""
    if settings.redis_url:
        from state.redis_state import RedisState

        return RedisState(settings.redis_url, prefix=settings.redis_key_prefix, timeout=settings.redis_timeout)
    return open_file_state(settings.state_dir)
