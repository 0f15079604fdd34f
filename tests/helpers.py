"""Test helpers: login tokens and StackOne-shaped answers, made independently of the code under test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import jwt

JWT_SECRET = "test-jwt-secret-that-is-long-enough-for-hs256"
API_KEY = "v1.test.sk_live_secret_api_key_123456"
API = "https://stackone.test"


def login(org_id="org-1", org_name="Acme Inc", email="ann@acme.test", *, secret=JWT_SECRET, exp_in=600, **claims):
    """A signed HS256 login token as the customer's own login service would issue it."""
    payload = {"org_id": org_id, "org_name": org_name, "email": email, "exp": int(time.time()) + exp_in, **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret, algorithm="HS256")


def bearer(token: str | None = None, **kwargs) -> dict[str, str]:
    """Authorization header for a login token."""
    return {"Authorization": f"Bearer {token or login(**kwargs)}"}


def account(account_id="acc-1", provider="bamboohr", owner="org-1", **fields):
    """A StackOne LinkedAccount, secrets included, as GET /accounts returns it."""
    return {
        "id": account_id, "provider": provider, "provider_name": provider.title(), "status": "active",
        "status_reasons": [], "origin_owner_id": owner, "origin_owner_name": "Acme Inc",
        "origin_username": "ann@acme.test", "label": None, "type": "production",
        "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-02T00:00:00.000Z",
        "credentials": {"api_key": "PROVIDER-SECRET"}, "setup_information": {"subdomain": "acme"}, **fields,
    }


def session_answer(token="sess_tok_abcdef123456", **fields):
    """StackOne's 201 answer to POST /connect_sessions."""
    return {"id": 7, "organization_id": "1", "project_id": "p1", "origin_owner_id": "org-1",
            "origin_owner_name": "Acme Inc", "created_at": "2026-11-21T00:00:00Z", "token": token, **fields}


def stackone_signature(secret: str, body: bytes) -> str:
    """Sign like StackOne: base64url(HMAC-SHA256(secret, raw body)) without '=' padding (Node's base64url)."""
    return base64.urlsafe_b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode().rstrip("=")


def timeout_of(call) -> float:
    """The most a recorded StackOne call could take: the whole-call limit the client gave requests."""
    given = call.request.req_kwargs["timeout"]
    return getattr(given, "total", given)
