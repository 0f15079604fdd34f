"""Raw sockets against gunicorn as deployed (our config, 2 workers) and the sandbox: slow clients, broken framing,
oversized bodies, malformed HTTP and forged log lines."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests

from support.slow_clients import hold_slow_clients
from tests.e2e_processes import gunicorn_stack
from tests.helpers import login, stackone_signature

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.serving_key_0123456789"
WEBHOOK_SECRET = "whsec_serving_0123456789"
BODY_READ_TIMEOUT = 2
JSON = "Content-Type: application/json\r\n"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """gunicorn (2 workers, our gunicorn.conf.py) in front of the sandbox, on free loopback ports."""
    with gunicorn_stack(tmp_path_factory.mktemp("serving"), key=KEY, BODY_READ_TIMEOUT=str(BODY_READ_TIMEOUT),
                        GUNICORN_ACCESSLOG="-", LOG_FORMAT="text", STACKONE_WEBHOOK_SECRETS=WEBHOOK_SECRET) as stack:
        yield int(stack.url.rsplit(":", 1)[1]), stack.sandbox_url, stack.log


def exchange(port: int, raw: bytes, wait: float = 10) -> tuple[float, bytes, bool]:
    """Send raw bytes; read until the server closes. Returns (seconds, bytes, closed by the server)."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.settimeout(wait)
        started = time.monotonic()
        sock.sendall(raw)
        out, closed = b"", False
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    closed = True
                    break
                out += data
        except TimeoutError:
            pass
        return time.monotonic() - started, out, closed


def head(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    top, _, body = raw.partition(b"\r\n\r\n")
    lines = top.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def calls(sandbox_url: str) -> list[str]:
    return requests.get(f"{sandbox_url}/sandbox/calls", timeout=5).json()


def test_held_slow_clients_do_not_take_the_service_off_the_air(stack):
    """64 half-sent requests (headers or bodies trickling), far above any thread count, held throughout."""
    port, _, _ = stack
    stop_at = time.monotonic() + 8
    held: list[socket.socket] = []
    threads = hold_slow_clients(port, 64, stop_at, held)
    while len(held) < 64 and time.monotonic() < stop_at:  # every slow client holds a connection before we measure
        time.sleep(0.05)
    headers = {"Authorization": f"Bearer {login(org_id='org-slow', org_name='Slow Ltd')}"}
    worst = 0.0
    for _ in range(5):
        for call in (lambda: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5),
                     lambda: requests.post(f"http://127.0.0.1:{port}/stackone_connect_sessions", timeout=5,
                                           json={"provider": "bamboohr"}, headers=headers)):
            began = time.monotonic()
            assert call().status_code == 200
            worst = max(worst, time.monotonic() - began)
        time.sleep(0.5)
    assert len(held) >= 64
    assert worst < 2, f"a request waited {worst:.2f}s behind the slow clients"
    for thread in threads:
        thread.join(10)


def test_a_malformed_chunked_webhook_is_400_before_the_signature(stack):
    port, _, log = stack
    _, raw, closed = exchange(port, f"POST /stackone_webhooks HTTP/1.1\r\nHost: x\r\n{JSON}"
                                    "Transfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n".encode())
    status, headers, body = head(raw)
    assert (status, headers["content-type"], headers["connection"]) == (400, "application/problem+json", "close")
    assert b'"invalid_body"' in body and headers["x-request-id"] and closed
    assert raw.count(b"HTTP/1.1") == 1  # one answer: the rest of the broken body is not parsed as a request
    assert " ERROR " not in log.read_text() and "Traceback" not in log.read_text()


def test_a_malformed_chunked_session_body_is_400_after_login_and_401_before(stack):
    port, sandbox_url, _ = stack
    before = calls(sandbox_url)
    broken = "Transfer-Encoding: chunked\r\n\r\n5\r\n{}\r\n0\r\n\r\n"  # a 5-byte chunk carrying 2 bytes
    _, raw, _ = exchange(port, f"POST /stackone_connect_sessions HTTP/1.1\r\nHost: x\r\n{JSON}"
                               f"Authorization: Bearer {login()}\r\n{broken}".encode())
    status, _, body = head(raw)
    assert (status, b'"invalid_body"' in body) == (400, True)
    _, raw, _ = exchange(port, f"POST /stackone_connect_sessions HTTP/1.1\r\nHost: x\r\n{JSON}{broken}".encode())
    assert head(raw)[0] == 401 and raw.count(b"HTTP/1.1") == 1
    assert calls(sandbox_url) == before


def test_a_stalled_chunked_body_is_answered_408_at_the_read_deadline(stack):
    port, _, _ = stack
    took, raw, closed = exchange(port, f"POST /stackone_webhooks HTTP/1.1\r\nHost: x\r\n{JSON}"
                                       "Transfer-Encoding: chunked\r\n\r\n10\r\nabc".encode())
    status, headers, problem = head(raw)
    assert (status, headers["content-type"], b'"request_timeout"' in problem) == (408, "application/problem+json", True)
    assert BODY_READ_TIMEOUT - 0.5 < took < BODY_READ_TIMEOUT + 3 and closed


@pytest.mark.parametrize("first", ["ffffffffffffffffffff", "10001", "8000\r\n" + "x" * 0x8000 + "\r\n8001"],
                         ids=["huge", "one-over", "second-chunk-over"])
@pytest.mark.parametrize("path", ["/stackone_webhooks", "/stackone_connect_sessions"])
def test_a_chunk_that_cannot_fit_is_413_as_soon_as_its_size_line_arrives(stack, first, path):
    port, sandbox_url, _ = stack
    before = calls(sandbox_url)
    # The client sends the size line and a few bytes, then waits: the answer must come without the rest.
    took, raw, closed = exchange(port, f"POST {path} HTTP/1.1\r\nHost: x\r\n{JSON}Authorization: Bearer {login()}\r\n"
                                       f"Transfer-Encoding: chunked\r\n\r\n{first}\r\nabc".encode())
    status, headers, problem = head(raw)
    assert (status, headers["content-type"]) == (413, "application/problem+json")
    assert json.loads(problem)["maxBytes"] == 65536
    assert took < BODY_READ_TIMEOUT - 0.5 and closed  # not held until the read deadline
    assert calls(sandbox_url) == before


@pytest.mark.parametrize("codings", ["gzip, chunked", "deflate, chunked", "x-custom, chunked"])
def test_a_transfer_coding_the_service_does_not_decode_is_501(stack, codings):
    port, sandbox_url, _ = stack
    before = calls(sandbox_url)
    _, raw, _ = exchange(port, f"POST /stackone_connect_sessions HTTP/1.1\r\nHost: x\r\n{JSON}"
                               f"Authorization: Bearer {login()}\r\nTransfer-Encoding: {codings}\r\n\r\n"
                               "2\r\n{}\r\n0\r\n\r\n".encode())
    status, headers, problem = head(raw)
    assert (status, headers["content-type"]) == (501, "application/problem+json")
    assert b'"unsupported_transfer_coding"' in problem and raw.count(b"HTTP/1.1 ") == 1
    assert calls(sandbox_url) == before


@pytest.mark.parametrize(("method", "path"), [("DELETE", "/stackone_accounts//x"),
                                              ("POST", "/stackone_connect_sessions//status"), ("GET", "//healthz")])
def test_a_path_with_an_empty_segment_is_a_404_problem_not_a_redirect(stack, method, path):
    port, _, _ = stack
    _, raw, _ = exchange(port, f"{method} {path} HTTP/1.1\r\nHost: evil.test\r\nContent-Length: 0\r\n"
                               "Connection: close\r\n\r\n".encode())
    status, headers, problem = head(raw)
    assert (status, headers["content-type"], "location" in headers) == (404, "application/problem+json", False)
    assert b"evil.test" not in raw and b'"not_found"' in problem


def test_an_oversized_body_is_413_and_the_connection_closes_cleanly(stack):
    port, _, _ = stack
    body = b'{"label": "' + b"x" * 70000 + b'"}'
    _, raw, closed = exchange(port, f"POST /stackone_webhooks HTTP/1.1\r\nHost: x\r\n{JSON}"
                                    f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
    status, headers, problem = head(raw)
    assert (status, headers["connection"], b'"maxBytes":65536' in problem) == (413, "close", True)
    assert closed  # said "close" and closed: a client does not send its next request into a dead socket


@pytest.mark.parametrize(("raw", "status"), [
    ("GET /" + "a" * 5000 + " HTTP/1.1\r\nHost: x\r\n\r\n", 414),
    ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + "a" * 9000 + "\r\n\r\n", 431),
    ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n", 400),
    ("G@T /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400),
], ids=["long-request-line", "big-header", "control-in-header", "odd-method"])
def test_what_gunicorn_refuses_itself_is_problem_json(stack, raw, status):
    port, _, _ = stack
    _, answer, _ = exchange(port, raw.encode("latin-1"))
    got, headers, body = head(answer)
    assert (got, headers["content-type"]) == (status, "application/problem+json")
    assert len(headers["x-request-id"]) == 32 and f'"status": {status}'.encode() in body


def test_a_path_cannot_forge_a_log_line(stack):
    port, _, log = stack
    exchange(port, b"GET /healthz%0A2026-11-22%2000:00:00%20CRITICAL%20forged%0D%1B[31m%00 HTTP/1.1\r\n"
                   b"Host: x\r\nConnection: close\r\n\r\n")
    body = stackone_signature(WEBHOOK_SECRET, b"x")  # any request after it, so the line is surely written
    requests.get(f"http://127.0.0.1:{port}/healthz?{body}", timeout=5)
    lines = log.read_text().splitlines()
    assert not [line for line in lines if line.startswith("2026-11-22 00:00:00 CRITICAL")]
    assert any("\\n2026-11-22 00:00:00 CRITICAL forged\\r\\x1b[31m\\x00" in line for line in lines)
