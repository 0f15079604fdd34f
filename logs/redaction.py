"""Make untrusted or secret-bearing text safe to log or pass on: redact credentials, neutralise control characters."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable

_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*")
# Connect Session tokens: StackOne's (cst_...) and the bundled sandbox's (sbx_...).
_SESSION_TOKEN = re.compile(r"\b(?:cst|sbx)_[A-Za-z0-9._~+/=-]{6,}")
# An Auth Link of ours: its path is /l/ and the link's secret (e.g. in gunicorn's own access line, GUNICORN_ACCESSLOG).
_LINK_PATH = re.compile(r"/l/[^\s\"'?#<>]+")  # percent-encoded too: werkzeug decodes it into the same link
# What every one of the four patterns above needs somewhere in the text: one scan rules them all out, which is
# what happens for nearly every line (each is written for every request).
_MAYBE_CREDENTIAL = re.compile(r"(?i:bearer|basic)\s|eyJ|cst_|sbx_|/l/")
# C0 and C1 controls, DEL, and the Unicode line and paragraph separators: anything that can end or
# rewrite a log line on a terminal or in a line-oriented collector.
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MIN_SECRET = 6


def secret_forms(secrets: Iterable[str]) -> tuple[str, ...]:
    """Each secret as given and as it travels in a Basic header (base64 of "secret:"), longest first."""
    forms: set[str] = set()
    for secret in secrets:
        if secret and len(secret) >= MIN_SECRET:
            forms.add(secret)
            forms.add(base64.b64encode(f"{secret}:".encode()).decode().rstrip("="))
    return tuple(sorted(forms, key=len, reverse=True))


def redact(text: str, forms: tuple[str, ...] = ()) -> str:
    """Replace bearer and Basic credentials, JWTs, session tokens, link paths and the given secret forms."""
    if _MAYBE_CREDENTIAL.search(text):
        text = _SESSION_TOKEN.sub("[redacted-token]", _JWT.sub("[redacted-jwt]", _BEARER.sub(r"\1 [redacted]", text)))
        text = _LINK_PATH.sub("/l/[redacted-link]", text)
    for form in forms:
        if form in text:
            text = text.replace(form, "[redacted]")
    return text


def escape_controls(text: str) -> str:
    r"""Write control characters as visible escapes (\n, \x1b, \u2028), so one record stays one line."""
    if not _CONTROLS.search(text):
        return text
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def strip_controls(text: str) -> str:
    """Replace runs of control characters with one space (for text shown to a caller, not a log)."""
    return re.sub(r" {2,}", " ", _CONTROLS.sub(" ", text)).strip()
