"""StackOne's answers read into ours: the JSON body of a success, else the one of errors.py's errors it means."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import requests
from urllib3.exceptions import NewConnectionError

from errors import (
    ProviderNotEnabled,
    ServiceError,
    SessionNotFound,
    StackOneError,
    StackOneMisconfigured,
    UpstreamAuthFailed,
    UpstreamBusy,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from logs.redaction import redact, strip_controls

# The transport's lines keep its logger's name, whichever of its modules writes them.
log = logging.getLogger("stackone.transport")

MAX_MESSAGE = 500
DEFAULT_RETRY_AFTER = 60.0  # StackOne's documented Retry-After when a 429 carries none
RETRY_AFTER_CAP = 30  # seconds we will ask our caller to wait, and the most we sleep between GET retries
# Which statuses mean "that thing does not exist" per kind of lookup. A session token StackOne no longer knows
# (expired, or never valid) may also come back as 400 or 410; 401/403 stay "our API key was refused".
MISSING_STATUSES = {SessionNotFound: (400, 404, 410)}
# What an API server (StackOne's is NestJS on Express) answers for a route it does not have: "Cannot GET /v1/x".
NO_SUCH_ROUTE = re.compile(r"Cannot (GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) /\S*")
WRONG_URL = ("StackOne has no such route at the configured STACKONE_API_URL; the operator must set STACKONE_API_URL "
             "to StackOne's API base (https://api.stackone.com, with no path such as /v1)")


class Answers:
    """One client's reader of StackOne's answers; it remembers whether the wrong-URL error was logged yet."""

    def __init__(self, base_url: str, secret_forms: list[str], on_wrong_url: Callable[[str], None] | None) -> None:
        self.base_url = base_url
        self._secret_forms = secret_forms
        # Told (with the route) each time StackOne says a route it always serves is not there: /readyz reports it.
        self._on_wrong_url = on_wrong_url
        self._wrong_url_logged = False

    def read(self, response: requests.Response, where: str, missing: type[ServiceError] | None) -> Any:
        """The answer's JSON body (None for a 204), or raise the error it means."""
        if 300 <= response.status_code < 400:
            log.error("StackOne answered %s with a redirect (%s); not followed", where, response.status_code)
            raise StackOneError("StackOne answered with an unexpected redirect")
        if response.status_code == 204:
            return None
        if response.ok:
            body = _json(response)
            if body is _UNREADABLE:
                log.error("StackOne answered %s with a body that is not JSON (status %s)", where, response.status_code)
                raise StackOneError("StackOne's answer could not be read")
            return body
        raise self.error(response, where, missing)

    def error(self, response: requests.Response, where: str, missing: type[ServiceError] | None
              ) -> ServiceError:
        """The error a StackOne answer that is not a success means (`missing` for a 404 that means "not found")."""
        status = response.status_code
        message = self._message(response)
        if status in (401, 403):
            # Loud: this is the operator's misconfiguration, and every caller is failing.
            log.critical("StackOne refused our API key (%s on %s): check STACKONE_API_KEY", status, where)
            return UpstreamAuthFailed("The service is misconfigured; the operator has been told")
        if status in (408, 429):
            retry_after = retry_after_seconds(response.headers.get("Retry-After"))
            log.warning("StackOne busy (%s on %s), retry after %ss", status, where, retry_after)
            return UpstreamBusy("StackOne is busy; try again shortly", headers={"Retry-After": str(retry_after)})
        if status == 404 and (missing is None or NO_SUCH_ROUTE.fullmatch(message or "")):
            # Every call without a "not found" meaning goes to a route StackOne always serves (connectors, the
            # account list, a new session): a 404 there, or the server's own "Cannot GET /v1/..." anywhere, is
            # a base URL that is not StackOne's API, not a refusal of this caller's request.
            return self._wrong_url(where)
        if missing is not None and status in MISSING_STATUSES.get(missing, (404,)):
            return missing()
        if status == 412:
            return ProviderNotEnabled(message or "The integration is not enabled for this StackOne project")
        if 400 <= status < 500:
            log.info("StackOne rejected %s with %s: %s", where, status, message)
            return UpstreamRejected(message or "StackOne rejected the request", upstreamStatus=status)
        log.error("StackOne failed %s with %s", where, status)
        return StackOneError("StackOne failed to answer; try again later")

    def _wrong_url(self, where: str) -> StackOneMisconfigured:
        if not self._wrong_url_logged:
            self._wrong_url_logged = True  # once per process: every request after this one fails the same way
            log.error("StackOne answered 404 on %s, a route it always serves: STACKONE_API_URL=%s is not StackOne's "
                      "API base (https://api.stackone.com, no /v1)", where, self.base_url)
        if self._on_wrong_url:
            self._on_wrong_url(where)
        return StackOneMisconfigured(WRONG_URL)

    def _message(self, response: requests.Response) -> str | None:
        """StackOne's own `message`, the only upstream text we pass on, trimmed and scrubbed."""
        body = _json(response)
        message = body.get("message") if isinstance(body, dict) else None
        if isinstance(message, list):  # validation errors arrive as a list of strings
            message = "; ".join(str(m) for m in message)
        if not isinstance(message, str) or not message.strip():
            return None
        # Passed on to the caller and the log: no control character (a forged log line) and no credential
        # (a session token, our key or its Basic form) may ride along.
        message = strip_controls(redact(message, self._secret_forms))
        return message[:MAX_MESSAGE] or None


_UNREADABLE = object()


def _json(response: requests.Response) -> Any:
    """The body as JSON, or _UNREADABLE (not JSON, or nested past the parser's recursion limit)."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        return _UNREADABLE


def unreachable(*, sent: bool) -> UpstreamUnreachable:
    """StackOne could not be reached; `sent` says whether the request may have reached it all the same."""
    error = UpstreamUnreachable("StackOne could not be reached; try again")
    error.sent = sent  # whether the request may have reached StackOne (then a POST is not sent again)
    return error


def may_have_left(exc: requests.ConnectionError) -> bool:
    """False only when the connection itself could not be made (refused, no route): then nothing was sent."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return not isinstance(reason, NewConnectionError)


def timed_out(where: str, timeout: float) -> UpstreamTimeout:
    """StackOne did not answer within `timeout` seconds (logged)."""
    log.warning("StackOne timed out on %s after %.2gs", where, timeout)
    return UpstreamTimeout("StackOne did not answer in time; try again")


def retry_after_seconds(value: str | None, cap: float = RETRY_AFTER_CAP, default: float = 1.0) -> int:
    """Seconds to ask our caller to wait: StackOne's Retry-After (seconds or an HTTP-date), from 1 to the cap;
    `default` when there is none."""
    seconds = 1.0 if value else default
    text = (value or "").strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            when = None
        if when is not None:
            when = when if when.tzinfo else when.replace(tzinfo=UTC)
            seconds = (when - datetime.now(UTC)).total_seconds()
    if math.isnan(seconds):  # inf, 1e400 and -inf are clamped below; NaN compares false to everything
        seconds = 1.0
    return int(max(1.0, min(seconds, float(cap))))
