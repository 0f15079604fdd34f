"""What a request carries between the web layer's hooks and views: the caller's owner, resolved once."""

from __future__ import annotations

from flask import g, request

from errors import Unauthorized
from extensions import services
from identity.owner import Owner


def current_owner() -> Owner:
    """The caller's owner, from the configured login (once per request); raises Unauthorized (401)."""
    if "owner" not in g:
        # Resolved once per request, refusal included: the rate limit and the view both ask.
        if "owner_refused" in g:
            raise g.owner_refused
        try:
            g.owner = services().resolver.resolve(request.headers, request.cookies)
        except Unauthorized as refused:
            g.owner_refused = refused
            raise
    return g.owner
