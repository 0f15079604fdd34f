"""Logging for the service: one line per record, request id attached, secrets scrubbed as a last defence."""

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
        message = record.getMessage()
        clean = _JWT.sub("[redacted-jwt]", _BEARER.sub(r"\1 [redacted]", message))
        for secret in self.secrets:
            clean = clean.replace(secret, "[redacted]")
        if clean != message:
            record.msg, record.args = clean, None
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
