"""The two log formats: one JSON object per line (LOG_FORMAT=json, the default under gunicorn), or text."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from logs.redaction import escape_controls

TEXT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"


class JSONFormatter(logging.Formatter):
    """time, level, logger, message, request_id, and the record's structured `fields` when it has them."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace(
                "+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            line.update({k: v for k, v in fields.items() if k not in line})
        return json.dumps(line, default=str, separators=(",", ":"))


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
