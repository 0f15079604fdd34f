"""The one ISO 8601 pair: a moment written in UTC with a `Z`, and StackOne's (or anyone's) ISO 8601 text read back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def iso_utc(moment: datetime | float) -> str:
    """A datetime (aware) or epoch seconds as ISO 8601 in UTC to the second: 2026-01-02T03:04:05Z."""
    when = moment if isinstance(moment, datetime) else datetime.fromtimestamp(moment, UTC)
    return when.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: Any) -> datetime | None:
    """ISO 8601 text (`Z` or an offset; none read as UTC) as an aware datetime; None when absent or unreadable."""
    if not isinstance(text, str) or not text:
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)
