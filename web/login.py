"""The caller's owner, from the configured login (a JWT, or the legacy app's session), once per request."""

from __future__ import annotations

from flask import request

from errors import Unauthorized
from extensions import services
from identity.owner import Owner
from web.context import context


def current_owner() -> Owner:
    """The caller's owner, from the configured login (once per request); raises Unauthorized (401)."""
    ctx = context()
    if ctx.owner is None:
        # Resolved once per request, refusal included: the rate limit and the view both ask.
        if ctx.owner_refused is not None:
            raise ctx.owner_refused
        try:
            ctx.owner = services().resolver.resolve(request.headers, request.cookies)
        except Unauthorized as refused:
            ctx.owner_refused = refused
            raise
    return ctx.owner
