"""The log handler's last line of defence: no traceback, bearer token, JWT or configured secret gets through."""

from __future__ import annotations

import base64
import io
import json
import logging

from logs import SafeLogFilter, configure_logging
from logs.formats import JSONFormatter
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


def test_control_characters_are_escaped_so_one_record_stays_one_line():
    text = formatted(record("path %s", "/healthz\n2026-11-22 CRITICAL forged\r\x1b[31m\x00\u2028end"))
    assert text.count("\n") == 1
    assert "\\n2026-11-22 CRITICAL forged\\r\\x1b[31m\\x00\\u2028end" in text


def test_session_tokens_and_basic_credentials_are_redacted():
    basic = base64.b64encode(f"{API_KEY}:".encode()).decode()
    text = formatted(record("got %s and %s", "cst_0123456789abcdef", basic))
    assert "cst_0123456789abcdef" not in text and basic.rstrip("=") not in text


def test_a_links_path_is_blanked_but_its_route_rule_is_kept():
    secret = "kuSg6JzNisjfShouzP_bOmd-OK1ccai7"
    text = formatted(record('"GET %s" 302 and %s', f"/l/{secret}", "route /l/<secret>"))
    assert secret not in text and '"GET /l/[redacted-link]" 302' in text and "route /l/<secret>" in text
    encoded = "%6B" + secret[1:]  # werkzeug decodes it into the same link: blanked as well
    assert secret[1:] not in formatted(record('"GET %s" 302', f"/l/{encoded}"))


def test_gunicorns_handlers_get_the_same_filter():
    gunicorn_handler = logging.StreamHandler(io.StringIO())
    logging.getLogger("gunicorn.access").addHandler(gunicorn_handler)
    try:
        configure_logging("INFO", (API_KEY,))
        logging.getLogger("gunicorn.access").warning('"GET %s" 404', "/x\nFORGED")
        written = gunicorn_handler.stream.getvalue()
        assert written.endswith('"GET /x\\nFORGED" 404\n') and written.count("\n") == 1
    finally:
        logging.getLogger("gunicorn.access").removeHandler(gunicorn_handler)


def test_credentials_in_any_case_are_redacted_past_the_quick_scan():
    # The quick scan that spares most lines the three patterns must be as case-blind as the patterns.
    for message, secret in [("sent BEARER %s", "tok.en-1234"), ("then basic %s", "dXNlcjpwYXNz"),
                            ("and %s", "sbx_abcdefgh"), ("raw %s", login())]:
        assert secret not in formatted(record(message, secret)), message


def test_a_json_line_keeps_its_time_and_level_first_and_unforgeable():
    handler = logging.StreamHandler(io.StringIO())
    handler.addFilter(SafeLogFilter(()))
    handler.setFormatter(JSONFormatter())
    line = record("minted %s", "ok")
    line.created = 1795334400.9876  # 2026-11-22T08:00:00.987Z
    line.fields = {"time": "forged", "level": "forged", "owner_id": "org-1"}
    handler.handle(line)
    written = json.loads(handler.stream.getvalue())
    assert list(written)[:5] == ["time", "level", "logger", "message", "request_id"]
    assert written["time"] == "2026-11-22T08:00:00.987Z"
    assert (written["level"], written["message"], written["owner_id"]) == ("WARNING", "minted ok", "org-1")
