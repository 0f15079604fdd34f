"""Signed delivery to the customer's app in the Standard Webhooks format (the `standardwebhooks` library signs):
`webhook-id`, `webhook-timestamp`, `webhook-signature` headers over `{"type", "timestamp", "data"}`.

Each send has a wall-clock limit (APP_WEBHOOK_TIMEOUT) from connecting to the last byte of the answer: a socket
timeout bounds one read only, so a receiver that trickles its headers or body a byte at a time would otherwise hold a
sender for as long as it likes. A watchdog shuts the socket down at the limit; that wakes the blocked read in a plain
thread (the CLI) and in a greenlet (gunicorn's gevent worker) alike.
"""

from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from standardwebhooks.webhooks import Webhook

from connections.schedule import Failure, parse_retry_after

DEFAULT_TIME_LIMIT = 10.0
ANSWER_READ_LIMIT = 64 * 1024  # the answer's body is read (to know the send finished) but never kept or logged


class DeliveryFailed(Exception):
    """The customer's endpoint did not answer 2xx within the time limit; `failure` says how (status, Retry-After)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.reason)
        self.failure = failure


class _Watchdog:
    """Shuts a connection's socket down when the send's time is up (the sender closes it)."""

    def __init__(self, connection: http.client.HTTPConnection, seconds: float) -> None:
        self.fired = False
        self._connection = connection
        self._timer = threading.Timer(seconds, self._cut)  # a greenlet under gevent's monkey-patching
        self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        self._timer.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._timer.cancel()

    def _cut(self) -> None:
        self.fired = True
        sock = self._connection.sock
        if sock is None:
            return  # still connecting: the connection's own timeout (the same limit) ends that
        try:
            # The plain socket's shutdown, also for TLS: SSLSocket's own would drop its state under the reader's feet.
            socket.socket.shutdown(sock, socket.SHUT_RDWR)
        except OSError:
            pass  # closed meanwhile: the send ended on its own


class AppWebhookSender:
    """POSTs one event to APP_WEBHOOK_URL, signed with APP_WEBHOOK_SECRET (`whsec_...`), within a time limit."""

    def __init__(self, url: str, secret: str, time_limit: float = DEFAULT_TIME_LIMIT) -> None:
        parts = urlsplit(url)
        self._https = parts.scheme == "https"
        self._host, self._port = parts.hostname or "", parts.port
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._auth = None
        if parts.username is not None:  # credentials in the URL: Basic auth, as any HTTP client would send them
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            self._auth = "Basic " + base64.b64encode(pair).decode()
        self._signer = Webhook(secret)
        self.time_limit = time_limit
        # The customer's own endpoint: certifi's roots (as requests uses), no proxy settings from the environment.
        self._tls = _tls_context() if self._https else None

    def send(self, event: dict[str, Any]) -> None:
        """Deliver or raise DeliveryFailed; the same event id on every retry (receivers de-duplicate by it)."""
        body, headers = self._signed(event)
        connection = self._connection()
        error = None
        try:
            with _Watchdog(connection, self.time_limit) as watchdog:
                try:
                    connection.request("POST", self._target, body=body, headers=headers)
                    answer = connection.getresponse()
                    answer.read(ANSWER_READ_LIMIT)
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    error = type(exc).__name__
        finally:
            connection.close()
        # Cut mid-answer, a bounded read returns what came before the cut without an error: the watchdog says.
        if watchdog.fired:
            raise DeliveryFailed(Failure(f"no answer within {self.time_limit:g} s"))
        if error:
            raise DeliveryFailed(Failure(error))
        if not 200 <= answer.status < 300:
            waited = parse_retry_after(answer.getheader("Retry-After"), time.time())
            raise DeliveryFailed(Failure(f"HTTP {answer.status}", answer.status, waited))

    def _signed(self, event: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        body = json.dumps({"type": event["type"], "timestamp": event["timestamp"], "data": event["data"]},
                          separators=(",", ":"))
        sent_at = datetime.now(UTC)
        headers = {"Content-Type": "application/json", "User-Agent": "stackone-connect-backend",
                   "webhook-id": event["id"], "webhook-timestamp": str(int(sent_at.timestamp())),
                   "webhook-signature": self._signer.sign(event["id"], sent_at, body), "Connection": "close"}
        if self._auth:
            headers["Authorization"] = self._auth
        return body.encode(), headers

    def _connection(self) -> http.client.HTTPConnection:
        # One connection per send: the watchdog may shut it down, so none is ever handed to another send.
        if self._https:
            return http.client.HTTPSConnection(self._host, self._port, timeout=self.time_limit, context=self._tls)
        return http.client.HTTPConnection(self._host, self._port, timeout=self.time_limit)


def _tls_context() -> ssl.SSLContext:
    import certifi

    return ssl.create_default_context(cafile=certifi.where())
