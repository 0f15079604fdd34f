"""Logging for the service: one line per record, request id attached, secrets and tracebacks kept out."""

from __future__ import annotations

import logging
import re

from flask import g, has_request_context

_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")


class RedactingFilter(logging.Filter):
    """Adds the request id and strips bearer tokens, JWTs and the given secrets from every message."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.secrets = tuple(s for s in secrets if s and len(s) >= 6)

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = g.get("request_id", "-") if has_request_context() else "-"
        original = record.getMessage()
        message = original
        if record.exc_info or record.stack_info:
            # Libraries log tracebacks too (cachelib does on a bad cache file); keep the type, drop the rest.
            exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else "stack"
            message = f"{message} [{exc_type}; traceback withheld]"
            record.exc_info = record.exc_text = record.stack_info = None
        message = _JWT.sub("[redacted-jwt]", _BEARER.sub(r"\1 [redacted]", message))
        for secret in self.secrets:
            message = message.replace(secret, "[redacted]")
        if message != original:
            record.msg, record.args = message, None
        return True


def configure_logging(level: str, secrets: tuple[str, ...]) -> None:
    """Install one stderr handler on the root logger (once per process) with the redacting filter."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_stackone_connect", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._stackone_connect = True
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
        root.addHandler(handler)
    handler.filters = [RedactingFilter(secrets)]
    root.setLevel(level.upper())
