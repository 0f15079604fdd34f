"""Test helpers: login tokens and StackOne-shaped answers, made independently of the code under test."""

from __future__ import annotations

import base64
import hashlib
import hmac

# Logins and StackOne's answers live in support/ (the bench makes them too); their names stay importable from here.
from support.logins import JWT_SECRET, login
from support.stackone_answers import API, API_KEY, account, session_answer

__all__ = ["API", "API_KEY", "JWT_SECRET", "account", "bearer", "login", "session_answer", "stackone_signature",
           "timeout_of"]


def bearer(token: str | None = None, **kwargs) -> dict[str, str]:
    """Authorization header for a login token."""
    return {"Authorization": f"Bearer {token or login(**kwargs)}"}


def stackone_signature(secret: str, body: bytes) -> str:
    """Sign like StackOne: base64url(HMAC-SHA256(secret, raw body)) without '=' padding (Node's base64url)."""
    return base64.urlsafe_b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode().rstrip("=")


def timeout_of(call) -> float:
    """The most a recorded StackOne call could take: the whole-call limit the client gave requests."""
    given = call.request.req_kwargs["timeout"]
    return getattr(given, "total", given)
