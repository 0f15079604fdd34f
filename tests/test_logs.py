"""The log handler's last line of defence: no traceback, bearer token, JWT or configured secret gets through."""

from __future__ import annotations

import io
import logging

from logs import SafeLogFilter
from tests.helpers import API_KEY, login


def formatted(record: logging.LogRecord, secrets=(API_KEY,)) -> str:
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(SafeLogFilter(secrets))
    handler.setFormatter(logging.Formatter("%(levelname)s [%(request_id)s] %(message)s"))
    handler.handle(record)
    return handler.stream.getvalue()


def record(msg, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("x", logging.WARNING, __file__, 1, msg, args, exc_info)


def test_tracebacks_are_withheld_but_the_type_is_kept():
    try:
        raise OSError("cache file broken")
    except OSError:
        import sys

        text = formatted(record("Exception raised while handling cache file", exc_info=sys.exc_info()))
    assert "Traceback" not in text and "OSError; traceback withheld" in text
    assert text.count("\n") == 1  # one line


def test_tokens_and_secrets_are_scrubbed():
    token = login()
    text = formatted(record("header was Bearer %s, key %s, raw %s", "abc.def-ghi", API_KEY, token))
    assert "abc.def-ghi" not in text and API_KEY not in text and token not in text
    assert "[redacted]" in text and "[redacted-jwt]" in text
