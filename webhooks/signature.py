"""Verify `x-stackone-signature`: base64url(HMAC-SHA256(secret, raw body)), padded or not, any configured secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable

from errors import BadSignature


def expected_signature(secret: str, body: bytes) -> str:
    """The signature StackOne sends for `body` under `secret`, without '=' padding (Node's base64url)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def verify_signature(body: bytes, header: str | None, secrets: Iterable[str]) -> None:
    """Raise BadSignature unless `header` signs `body` under one of `secrets` (compared in constant time)."""
    offered = (header or "").strip().rstrip("=")
    if not offered or not offered.isascii():
        raise BadSignature("The x-stackone-signature header is missing or malformed")
    # Check every secret (no early exit), so the time taken does not say which one matched.
    matched = False
    for secret in secrets:
        matched |= hmac.compare_digest(expected_signature(secret, body), offered)
    if not matched:
        raise BadSignature("The webhook signature does not match")
