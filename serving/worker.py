"""gunicorn's gevent worker, with a deadline on reading a request body and problem+json for malformed HTTP.

Why gevent: a slow client then holds a cheap greenlet, not one of a few threads (measured in docs/operating.md:
40 half-sent requests took gthread 2x8 off the air; 400 left this worker's /healthz at a few milliseconds).
gunicorn itself bounds the header read by `keepalive`; this worker bounds the body read, refuses a chunk that cannot
fit the body limit as soon as its size line arrives, and stamps each request with the listener it arrived on.
"""

from __future__ import annotations

import json
import uuid

import gevent
import gevent.local
from gunicorn import util
from gunicorn.http import errors as http_errors
from gunicorn.http.body import ChunkedReader
from gunicorn.workers.ggevent import GeventWorker
from werkzeug.exceptions import RequestEntityTooLarge

from serving.gunicorn_settings import GUNICORN
from web.body import MAX_BODY_BYTES
from web.listeners import LISTENER_KEY, PUBLIC, listener_kind, metrics_socket_names
from web.problems import PROBLEM_TYPE

# A closing connection reads off (and drops) at most this much of what the client is still sending.
LINGER_SECONDS = 2.0
LINGER_BYTES = 1024 * 1024

# gunicorn's own refusals, before the app sees the request: (status, code, title).
_REFUSALS = [
    (http_errors.LimitRequestLine, (414, "uri_too_long", "Request line too long")),
    (http_errors.LimitRequestHeaders, (431, "headers_too_large", "Request headers too large")),
    (http_errors.UnsupportedTransferCoding, (501, "unsupported_transfer_coding", "Transfer coding not supported")),
    (http_errors.ExpectationFailed, (417, "expectation_failed", "Expectation failed")),
    (http_errors.ForbiddenProxyRequest, (403, "forbidden", "Forbidden")),
    ((http_errors.InvalidChunkSize, http_errors.ChunkMissingTerminator, http_errors.InvalidChunkExtension),
     (400, "invalid_body", "The request body could not be read")),
    (http_errors.InvalidRequestMethod, (400, "invalid_method", "Invalid request method")),
    (http_errors.ParseException, (400, "bad_request", "Malformed HTTP request")),
]


class BodyReadTimeout(TimeoutError):
    """The client stopped sending its body before it was complete (the app answers 408)."""


class DeadlineInput:
    """wsgi.input whose reads all end by one deadline, however slowly the client trickles its bytes."""

    def __init__(self, stream, seconds: float) -> None:
        self._stream = stream
        self._deadline = gevent.get_hub().loop.now() + seconds

    def _bounded(self, method, *args):
        remaining = self._deadline - gevent.get_hub().loop.now()
        if remaining <= 0:
            raise BodyReadTimeout()
        with gevent.Timeout(remaining, BodyReadTimeout):
            return method(*args)

    def read(self, size=None):
        """Read like the wrapped stream, within what is left of the deadline."""
        return self._bounded(self._stream.read, size)

    def readline(self, size=None):
        """Read a line like the wrapped stream, within what is left of the deadline."""
        return self._bounded(self._stream.readline, size)

    def readlines(self, hint=None):
        """Read lines like the wrapped stream, within what is left of the deadline."""
        return self._bounded(self._stream.readlines, hint)

    def __iter__(self):
        return iter(self.readlines())


def bound_chunk_sizes(body, limit: int) -> None:
    """Make a chunked body refuse (413) the moment its declared chunk sizes add up past `limit`.

    gunicorn reads a chunk's size line, then waits for that many bytes: a declared size the body limit cannot hold
    would hold the connection until the read deadline. The reader calls parse_chunk_size through its instance, so
    the bound is set on this request's reader alone.
    """
    reader = getattr(body, "reader", None)
    if not isinstance(reader, ChunkedReader):
        return
    parse = reader.parse_chunk_size
    declared = 0

    def bounded(unreader, data=None):
        nonlocal declared
        size, rest = parse(unreader, data)
        declared += size
        if declared > limit:
            raise RequestEntityTooLarge()
        return size, rest

    reader.parse_chunk_size = bounded


def problem_response(status: int, code: str, title: str) -> bytes:
    """A complete HTTP/1.1 problem+json response that closes the connection."""
    request_id = uuid.uuid4().hex
    body = json.dumps({"type": PROBLEM_TYPE + code, "title": title, "status": status, "detail": title,
                       "code": code, "requestId": request_id}).encode()
    head = (f"HTTP/1.1 {status} {title}\r\nContent-Type: application/problem+json\r\n"
            f"Content-Length: {len(body)}\r\nX-Request-ID: {request_id}\r\nCache-Control: no-store\r\n"
            "Connection: close\r\n\r\n")
    return head.encode("latin-1") + body


class ServiceWorker(GeventWorker):
    """GeventWorker plus a body-read deadline (BODY_READ_TIMEOUT seconds) and problem+json error pages."""

    def load_wsgi(self):
        """Wrap the app: every request body is read within the deadline; the app may ask to close."""
        super().load_wsgi()
        app = self.wsgi
        seconds = GUNICORN.body_read_timeout  # parsed by the master, inherited by this forked worker
        # The listener each greenlet's current request arrived on (handle_request sets it from the socket).
        current = self._current_listener = gevent.local.local()
        metrics_names = metrics_socket_names()

        def served(environ, start_response):
            name = getattr(current, "name", None)
            environ[LISTENER_KEY] = PUBLIC if name is None else listener_kind(name, metrics_names)
            bound_chunk_sizes(environ["wsgi.input"], MAX_BODY_BYTES)
            environ["wsgi.input"] = DeadlineInput(environ["wsgi.input"], seconds)

            def start(status, headers, exc_info=None):
                # gunicorn drops an app's hop-by-hop headers, so "Connection: close" (a body left unread) is
                # passed on as gunicorn's own force_close: it then says so and closes instead of draining.
                if any(k.lower() == "connection" and v.lower() == "close" for k, v in headers):
                    gunicorn_response = getattr(start_response, "__self__", None)
                    if gunicorn_response is not None:
                        gunicorn_response.force_close()
                return start_response(status, headers, exc_info)

            return app(environ, start)

        self.wsgi = served

    def handle_request(self, listener_name, req, sock, addr):
        """Serve one request; when the response closes the connection, close it gracefully."""
        # listener_name is the accepting socket's own address: what served() tells the metrics listener by.
        self._current_listener.name = listener_name
        try:
            return super().handle_request(listener_name, req, sock, addr)
        except StopIteration:
            # The response said "Connection: close". Half-close and read off what the client is still sending
            # (RFC 9112 9.6): closing with unread bytes makes the kernel send a reset that can eat our answer.
            util.close_graceful(sock, timeout=LINGER_SECONDS, max_drain=LINGER_BYTES)
            raise

    def handle_error(self, req, client, addr, exc):
        """Answer what gunicorn refuses itself as problem+json with a request id, and log one escaped line."""
        status, code, title = 500, "internal_error", "Internal server error"
        for kinds, answer in _REFUSALS:
            if isinstance(exc, kinds):
                status, code, title = answer
                break
        where = addr[0] if isinstance(addr, tuple) and addr else "-"
        if status >= 500 and code == "internal_error":
            self.log.error("request failed in the server (%s)", type(exc).__name__)
        else:
            # The exception text can hold the client's bytes; the log filter escapes control characters.
            self.log.warning("refused a malformed request from %s: %s (%s)", where, code, str(exc)[:200])
        try:
            client.sendall(problem_response(status, code, title))
        except OSError:
            self.log.debug("could not send the error response")
