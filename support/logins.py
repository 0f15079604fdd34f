"""Login tokens as the customer's own login service would issue them, made independently of the code under test."""

from __future__ import annotations

import time

import jwt

JWT_SECRET = "test-jwt-secret-that-is-long-enough-for-hs256"


def login(org_id="org-1", org_name="Acme Inc", email="ann@acme.test", *, secret=JWT_SECRET, exp_in=600, **claims):
    """A signed HS256 login token as the customer's own login service would issue it."""
    payload = {"org_id": org_id, "org_name": org_name, "email": email, "exp": int(time.time()) + exp_in, **claims}
    payload = {k: v for k, v in payload.items() if v is not None}
    return jwt.encode(payload, secret, algorithm="HS256")
