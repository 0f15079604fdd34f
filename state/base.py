"""The interface the service needs from shared state: JSON values with expiry, and an atomic set-if-absent.

A backend that cannot reach its store raises errors.StateUnavailable; callers choose to degrade or refuse.
"""

from __future__ import annotations

from typing import Any, Protocol

# Values are plain JSON (no pickles): whoever can write the store must not thereby run code in the service.
JSONValue = Any


class SharedState(Protocol):
    """A key-value store shared by every worker; a missing or expired key reads as None."""

    def get(self, key: str) -> JSONValue | None:
        """The value, or None when absent, expired or unreadable."""
        ...

    def set(self, key: str, value: JSONValue, ttl: float | None = None) -> None:
        """Store value for ttl seconds (None: until replaced)."""
        ...

    def add(self, key: str, value: JSONValue, ttl: float) -> bool:
        """Store value only if the key is absent or expired, atomically; True if this call stored it."""
        ...

    def delete(self, key: str) -> None:
        """Remove the key if present."""
        ...

    def ping(self) -> str | None:
        """None when the store answers, else why not (for /readyz)."""
        ...
