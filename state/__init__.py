"""State every worker must agree on (caches, invalidation, replay marks): one small interface, its backends."""

from state.base import SharedState
from state.files import FileState, open_file_state

__all__ = ["FileState", "SharedState", "open_file_state"]
