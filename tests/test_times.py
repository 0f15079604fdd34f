"""The one ISO 8601 pair: what every answer, event and log sentence writes, and how StackOne's times are read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from domain.times import iso_utc, parse_iso


def test_a_moment_is_written_in_utc_to_the_second_with_a_z():
    berlin = datetime(2026, 1, 2, 4, 4, 5, 999_000, tzinfo=timezone(timedelta(hours=1)))
    assert iso_utc(berlin) == iso_utc(berlin.timestamp()) == "2026-01-02T03:04:05Z"


@pytest.mark.parametrize("text, expected", [
    ("2026-01-02T03:04:05.123Z", datetime(2026, 1, 2, 3, 4, 5, 123_000, tzinfo=UTC)),
    ("2026-01-02T04:04:05+01:00", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),
    ("2026-01-02T03:04:05", datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)),  # no offset: StackOne means UTC
    ("yesterday", None), ("", None), (None, None), (1767323045, None),
])
def test_iso_text_is_read_as_an_aware_moment_or_none(text, expected):
    assert parse_iso(text) == expected
