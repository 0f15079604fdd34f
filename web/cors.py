"""Calling the service from a browser on another origin: CORS for the allowed origins, and, where the login is an
ambient cookie, a check that every state-changing request comes from an origin we trust."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, request
from flask_cors import CORS

from config import Settings
from errors import OriginNotAllowed

# The routes a page calls; the webhook route is StackOne's, server to server, and gets no CORS headers.
BROWSER_ROUTES = r"/stackone_(?!webhooks)[a-z_]+(/.*)?"
ALLOWED_HEADERS = ["Authorization", "Content-Type", "X-Request-ID"]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _origin_of(url: str) -> str | None:
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def _netloc(url: str) -> str | None:
    try:
        return urlsplit(url).netloc
    except ValueError:  # the header is the client's: "http://[" must be a refusal, not a 500
        return None


def request_origin() -> str | None:
    """Where the request says it comes from: its Origin, else its Referer's origin; None when it names neither."""
    origin = request.headers.get("Origin")
    if origin is not None:
        return origin.strip().lower()  # "null" (sandboxed frames, file:) stays "null" and matches nothing
    referer = request.headers.get("Referer")
    if referer is None:
        return None
    return _origin_of(referer) or "null"


def init_cross_origin(app: Flask, settings: Settings) -> None:
    """Answer CORS for the allowed origins (none: no CORS headers at all), and check origins in cookie mode."""
    if settings.serving.cors_allowed_origins:
        CORS(app, resources={BROWSER_ROUTES: {}}, origins=list(settings.serving.cors_allowed_origins),
             methods=["GET", "POST", "DELETE"], allow_headers=ALLOWED_HEADERS, expose_headers=["X-Request-ID"],
             # A cookie is only sent cross-origin with credentials; a bearer token needs none, so none are allowed.
             supports_credentials=settings.login.owner_auth == "flask-session", max_age=600,
             # flask-cors sends its headers to a request with no Origin too, naming a configured origin to anyone
             # who asks; only a request from an allowed origin learns that it is allowed.
             always_send=False)
        browser_route = re.compile(BROWSER_ROUTES)

        @app.after_request
        def _vary_on_origin(response):
            # The answer differs by Origin (headers or none): a cache in front must keep one copy per Origin,
            # or a copy made for a request without one is served to an allowed page (the kit's files are cached).
            if browser_route.fullmatch(request.path):
                response.vary.add("Origin")
            return response
    if settings.login.owner_auth != "flask-session":
        return
    trusted = frozenset(settings.serving.cors_allowed_origins)

    @app.before_request
    def _check_origin():
        # The cookie goes with every request the browser makes, whoever's page asked for it: a state-changing
        # request must show it comes from this service's own origin or an allowed one (browsers send Origin on
        # every cross-site POST). A request naming neither header comes from no browser and is judged as usual.
        if request.method in SAFE_METHODS or request.path == "/stackone_webhooks":
            return
        offered = request_origin()
        if offered is None:
            return
        # Our own origin is judged by host and port only: behind a TLS-terminating proxy the scheme we see
        # (http) is not the page's (https).
        own_page = offered != "null" and _netloc(offered) == request.host.lower()
        if not own_page and offered not in trusted:
            raise OriginNotAllowed(f"Requests from {offered[:100]!r} may not use this service's session cookie; "
                                   "the operator can add the origin to CORS_ALLOWED_ORIGINS")
