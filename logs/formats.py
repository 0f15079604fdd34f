"""The two log formats: one JSON object per line (LOG_FORMAT=json, the default under gunicorn), or text."""

from __future__ import annotations

import json
import logging
import time

from logs.redaction import escape_controls

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# One encoder for every line: json.dumps with options builds a new one per call.
_encode = json.JSONEncoder(default=str, separators=(",", ":"), ensure_ascii=True).encode
_second: tuple[int, str] = (-1, "")  # the last whole second formatted, and its text: lines come many a second


def utc_timestamp(created: float) -> str:
    """ISO 8601 in UTC to the millisecond (2026-11-22T08:00:00.123Z), the date part formatted once a second."""
    global _second
    whole = int(created)
    if _second[0] != whole:
        _second = (whole, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(whole)))  # one tuple: swapped atomically
    return f"{_second[1]}.{int((created - whole) * 1000):03d}Z"


class JSONFormatter(logging.Formatter):
    """time, level, logger, message, request_id, and the record's structured `fields` when it has them."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": utc_timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line = {**line, **fields, **line}  # the five above stay first, and win over a field of the same name
        return _encode(line)


class TextFormatter(logging.Formatter):
    """The classic line, with structured `fields` appended as key=value (control characters escaped)."""

    def __init__(self) -> None:
        super().__init__(TEXT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict) and fields:
            line += " " + " ".join(f"{k}={v}" for k, v in fields.items() if v is not None)
        return escape_controls(line)


def formatter(kind: str) -> logging.Formatter:
    """The formatter for LOG_FORMAT."""
    return JSONFormatter() if kind == "json" else TextFormatter()
