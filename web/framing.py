"""Requests refused for their framing before anything else runs: unknown transfer codings, empty path segments."""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import NotFound

from errors import UnsupportedTransferCoding

# The one transfer coding the service reads (gunicorn removes it); anything else would be read as plain bytes.
DECODED_CODINGS = frozenset({"chunked"})


def init_framing(app: Flask) -> None:
    """Refuse a transfer coding the service does not decode (501) and a path with an empty segment (404).

    Called before any route is registered: the routes must be made with merge_slashes off.
    """
    # werkzeug would answer "/a//b" with a 308 to "/a/b" (an HTML body, a Location from the client's Host header),
    # before any login check, and read a leading "//" as "/": a path with an empty segment is an unknown path.
    app.url_map.merge_slashes = False

    @app.before_request
    def _refuse_framing():
        if "//" in request.environ.get("PATH_INFO", ""):
            raise NotFound()
        declared = request.headers.get("Transfer-Encoding")
        if declared is None:
            return
        codings = [c.strip().lower() for c in declared.split(",") if c.strip()]
        unknown = [c for c in codings if c not in DECODED_CODINGS]
        if unknown:
            raise UnsupportedTransferCoding(
                f"The body is sent with the transfer coding {unknown[0][:40]!r}; send it plain or chunked only")
