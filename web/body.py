"""Read a request body completely, within the size limit and the read deadline, then as one strict JSON object."""

from __future__ import annotations

from typing import Any

from flask import request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from errors import BodyTimeout, InvalidBody, PayloadTooLarge, UnsupportedMediaType
from schemas.strict_json import parse_json_object
from web.context import context

MAX_BODY_BYTES = 64 * 1024
CHUNK = 16 * 1024


def too_large() -> PayloadTooLarge:
    """The 413 every oversized body gets, Content-Length or chunked; it names the limit."""
    return PayloadTooLarge(f"The body is larger than {MAX_BODY_BYTES} bytes (64 KiB), the most this service accepts",
                           maxBytes=MAX_BODY_BYTES)


def read_body() -> bytes:
    """The raw body; 413 past the limit, 408 if the client stalls, 400 if its framing (chunked) is broken."""
    length = request.content_length
    if length is not None and length > MAX_BODY_BYTES:
        raise too_large()
    # A server that frames the body itself (gunicorn, also for chunked bodies) says so; read it directly, so
    # its framing errors reach us rather than being folded into "the client went away".
    environ = request.environ
    stream = environ["wsgi.input"] if environ.get("wsgi.input_terminated") else request.stream
    chunks: list[bytes] = []
    size = 0
    try:
        while size <= MAX_BODY_BYTES:
            chunk = stream.read(min(CHUNK, MAX_BODY_BYTES + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except TimeoutError:
        raise BodyTimeout("The body stopped arriving before it was complete") from None
    except RequestEntityTooLarge:
        raise too_large() from None
    except HTTPException:
        raise
    except Exception:  # the WSGI server's own framing errors (gunicorn's have no common public base)
        raise InvalidBody("The body's transfer encoding is malformed (e.g. a bad chunk size)") from None
    if size > MAX_BODY_BYTES:
        raise too_large()
    context().body_read = True
    return b"".join(chunks)


def body_left_unread() -> bool:
    """True when the request came with a body that was not read to its end (refused before, or broken)."""
    declared = bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "").lower()
    return declared and not context().body_read


def read_json_object() -> dict[str, Any]:
    """The body as a dict, or a 415 / 400 / 408 / 413 problem."""
    if not request.is_json:
        raise UnsupportedMediaType("Send the body as JSON with 'Content-Type: application/json'")
    return parse_json_object(read_body())
