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

    def delete_if(self, key: str, value: JSONValue) -> bool:
        """Remove the key only if it is present, unexpired and holds exactly `value`; True if this call removed it.

        Atomic: no write by another process (on any host) may fall between the comparison and the removal, so a
        holder whose lock expired and was taken by another never deletes the new holder's value. Values compare as
        the JSON they are stored as (state.lock stores and compares strings). False, and nothing changes, when the
        key is absent, expired or holds anything else. This is how a lock is released (state.lock).
        """
        ...

    def renew_if(self, key: str, value: JSONValue, ttl: float) -> bool:
        """Make the key expire `ttl` seconds from now (fractions of a second kept) only if it is present, unexpired
        and holds exactly `value`; the value is unchanged. True if this call renewed it.

        Atomic in the same way as delete_if: a lapsed holder never extends another's lock. False, and nothing
        changes, when the key is absent, expired or holds anything else. This is how a held lock is kept alive.
        """
        ...

    def ping(self) -> str | None:
        """None when the store answers, else why not (for /readyz)."""
        ...
