"""How each StackOne call is sent: a pooled session, the deadline, retries, the budget (stackone/answers.py reads
what comes back into ours)."""

from __future__ import annotations

import base64
import contextvars
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.cookiejar import DefaultCookiePolicy
from typing import Any, Protocol
from urllib.parse import urlencode
from urllib.request import getproxies

import requests
from requests.adapters import HTTPAdapter
from urllib3 import Timeout

from errors import ServiceError, StackOneError, UpstreamBusy, UpstreamTimeout, UpstreamUnreachable
from logs.redaction import secret_forms
from stackone.answers import (
    DEFAULT_RETRY_AFTER,
    RETRY_AFTER_CAP,
    Answers,
    may_have_left,
    retry_after_seconds,
    timed_out,
    unreachable,
)
from stackone.budget import PAUSE_MAX, Budget, Refused

log = logging.getLogger(__name__)


class CallObserver(Protocol):
    """Who watches the client's calls: extra headers for each (the request id) and each call's outcome."""

    def headers(self) -> dict[str, str]:
        """Headers to send with the next call."""
        ...

    def observed(self, operation: str, outcome: str, seconds: float) -> None:
        """One call finished: operation name, outcome (2xx..5xx, timeout, unreachable, error), duration."""
        ...

    def remaining(self) -> float | None:
        """Seconds left of the current request's deadline, or None when there is none."""
        ...


# GETs are retried on connection errors, read errors and these statuses; a POST only when its connection could not
# be made (it never left). Retries run here, not in urllib3, so that each one can be weighed against the deadline.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
BACKOFF = 0.25  # seconds before the second retry (the first is immediate), doubling, at most BACKOFF_MAX
BACKOFF_MAX = 2.0
RETRY_AFTER_SLEEP_MAX = 5.0  # the most we sleep on StackOne's Retry-After between GET retries
MIN_ATTEMPT = 0.05  # an attempt with less time than this left is not started
BACKGROUND_WAIT = 30.0  # seconds background work waits for the budget (it has no caller waiting) before giving up

# Set by Transport.background() for the work no caller waits on; per thread and per greenlet.
_background: contextvars.ContextVar[bool] = contextvars.ContextVar("stackone_background", default=False)


class Transport:
    """Sends one StackOne call: prepared, timed against the deadline, counted against the budget, retried, mapped."""

    def __init__(self, base_url: str, api_key: str, *, timeout: float, retries: int = 2, pool_size: int = 64,
                 observer: CallObserver | None = None, on_wrong_url: Callable[[str], None] | None = None,
                 budget: Budget | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.budget = budget
        self.timeout = timeout
        self.retries = retries
        self._observer = observer
        self._answers = Answers(self.base_url, secret_forms([api_key]), on_wrong_url)
        self._session = requests.Session()
        # The environment (HTTPS_PROXY / NO_PROXY, REQUESTS_CA_BUNDLE) is read once, here: with trust_env on,
        # requests scans it again on every call. Changing it needs a restart, as any setting does.
        self._session.trust_env = False
        self._session.proxies = outbound_proxies(self.base_url)
        self._session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        # One session serves every owner's requests: no cookie may carry state from one call to the next.
        self._session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))
        self._session.headers.update({"Accept": "application/json", "User-Agent": "stackone-connect-backend"})
        # Every call's headers, Basic auth included (the key as user name, empty password), made once: each call
        # is prepared on its own and sent through the session (requests' "Prepared Requests"), because
        # Session.request merges the session's settings into every call again, about 0.1 ms of CPU a call.
        self._headers = {**self._session.headers, "Authorization": basic_auth(api_key)}
        # Sized for the gevent worker's concurrency: a connection past the pool is opened, used once and dropped.
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=pool_size, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    @staticmethod
    @contextmanager
    def background() -> Iterator[None]:
        """Mark the calls made in the block as background work (reconcile, reminders, reconnect links, status
        checks): they spend at most STACKONE_BACKGROUND_SHARE of the budget and wait for it rather than fail."""
        token = _background.set(True)
        try:
            yield
        finally:
            _background.reset(token)

    def _call(self, method: str, path: str, operation: str, *, missing: type[ServiceError] | None = None,
              **kwargs: Any) -> Any:
        observer = self._observer
        headers = observer.headers() if observer else {}
        where = f"{method} {path.split('?')[0]}"
        for attempt in range(self.retries + 1):
            budget = observer.remaining() if observer else None
            if budget is not None and budget < MIN_ATTEMPT:
                # The caller's deadline has passed: answer now instead of asking StackOne too late.
                log.warning("no time left for StackOne on %s (request deadline)", where)
                raise UpstreamTimeout("The request ran out of time before StackOne answered; try again",
                                      headers={"Retry-After": "1"})
            timeout = self.timeout if budget is None else min(self.timeout, budget)
            self._spend(where)
            started = time.perf_counter()
            outcome = "error"
            try:
                response = self._send(method, path, where, headers, timeout, kwargs)
                outcome = f"{response.status_code // 100}xx"
            except UpstreamTimeout:
                outcome = "timeout"
                if not self._retry(method, attempt, sent=True, wait=0.0):
                    raise
                continue
            except UpstreamUnreachable as exc:
                outcome = "unreachable"
                if not self._retry(method, attempt, sent=getattr(exc, "sent", True), wait=0.0):
                    raise
                continue
            finally:
                if observer:
                    observer.observed(operation, outcome, time.perf_counter() - started)
            if response.status_code == 429 and self.budget is not None:
                # Every caller on every host pauses: a retry now would only be refused by the pause.
                self.budget.pause(retry_after_seconds(response.headers.get("Retry-After"), cap=PAUSE_MAX,
                                                      default=DEFAULT_RETRY_AFTER))
                return self._answers.read(response, where, missing)
            if response.status_code in RETRY_STATUSES:
                wait = min(float(retry_after_seconds(response.headers.get("Retry-After"))), RETRY_AFTER_SLEEP_MAX) \
                    if response.headers.get("Retry-After") else 0.0
                if self._retry(method, attempt, sent=True, wait=wait):
                    continue
            return self._answers.read(response, where, missing)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _spend(self, where: str) -> None:
        """Count the call about to be sent against StackOne's budget; refuse it (503 upstream_busy) when spent."""
        if self.budget is None:
            return
        background = _background.get()
        left = self._observer.remaining() if self._observer else None  # a status poll waits within its deadline
        give_up_at = time.monotonic() + (BACKGROUND_WAIT if left is None else min(BACKGROUND_WAIT, left))
        while True:
            try:
                return self.budget.take(background)
            except Refused as refused:
                wait = refused.wait
                if not background or time.monotonic() + wait > give_up_at:
                    log.warning("StackOne call %s not sent: %s", where,
                                "StackOne asked us to pause" if refused.paused else "the API key's budget is spent")
                    seconds = max(1, min(math.ceil(wait), RETRY_AFTER_CAP))
                    raise UpstreamBusy("StackOne is busy; try again shortly",
                                       headers={"Retry-After": str(seconds)}) from None
            # Background only: nobody waits on it, and it must yield to interactive calls (never a busy loop).
            time.sleep(max(wait, MIN_ATTEMPT))

    def _retry(self, method: str, attempt: int, *, sent: bool, wait: float) -> bool:
        """Sleep and return True when another attempt is allowed and can still finish before the deadline."""
        if attempt >= self.retries or (method != "GET" and sent):
            return False  # a POST or DELETE that may have reached StackOne is never sent again
        backoff = 0.0 if attempt == 0 else min(BACKOFF * 2 ** (attempt - 1), BACKOFF_MAX)
        pause = max(wait, backoff)
        budget = self._observer.remaining() if self._observer else None
        if budget is not None and budget - pause < MIN_ATTEMPT:
            return False  # no retry starts that cannot finish
        if pause:
            time.sleep(pause)
        return True

    def _send(self, method: str, path: str, where: str, headers: dict[str, str], timeout: float,
              kwargs: dict[str, Any]) -> requests.Response:
        try:
            # Redirects are never followed: a 307 would send the POST twice, a 308 to another host would
            # post the owner's payload somewhere else.
            prepared = self._prepare(method, path, headers, kwargs)
            # `total` bounds connecting and reading together: a plain number bounds each alone, so a slow connect
            # (a SYN retried) followed by a slow answer took twice the time the deadline had left.
            limit = Timeout(connect=timeout, read=timeout, total=timeout)
            return self._session.send(prepared, timeout=limit, allow_redirects=False, stream=False,
                                      verify=self._session.verify, proxies=self._session.proxies, cert=None)
        except requests.ConnectTimeout as exc:
            log.warning("StackOne unreachable on %s (ConnectTimeout)", where)
            raise unreachable(sent=False) from exc
        except requests.Timeout as exc:
            raise timed_out(where, timeout) from exc
        except requests.ConnectionError as exc:
            log.warning("StackOne unreachable on %s (%s)", where, type(exc).__name__)
            raise unreachable(sent=may_have_left(exc)) from exc
        except requests.RequestException as exc:
            log.warning("StackOne call %s failed (%s)", where, type(exc).__name__)
            raise StackOneError() from exc

    def _prepare(self, method: str, path: str, headers: dict[str, str], kwargs: dict[str, Any]
                 ) -> requests.PreparedRequest:
        """The call as requests would send it: our headers, the JSON body, the query already encoded."""
        # A query string rather than a dict: requests checks a dict against a runtime Protocol, slow on Python 3.11.
        query = urlencode(kwargs["params"], doseq=True) if kwargs.get("params") else ""
        return requests.Request(method, self.base_url + path, headers={**self._headers, **headers},
                                json=kwargs.get("json"), params=query).prepare()

def basic_auth(api_key: str) -> str:
    """StackOne's Authorization header: HTTP Basic with the key as user name and an empty password."""
    return "Basic " + base64.b64encode(f"{api_key}:".encode("latin1")).decode("ascii")


def outbound_proxies(base_url: str) -> dict[str, str]:
    """The proxies the environment names for StackOne's URL (none when NO_PROXY covers it), read once."""
    if requests.utils.should_bypass_proxies(base_url, no_proxy=None):
        return {}
    return {scheme: url for scheme, url in getproxies().items() if scheme in ("http", "https")}
