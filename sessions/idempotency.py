"""Idempotency-Key (IETF draft-ietf-httpapi-idempotency-key-header, with Stripe's semantics) on the minting routes.

The same key from the same owner with the same body gets the first answer again, status and body, and StackOne is
called once, even when the two requests arrive together on different hosts: the first claims the key atomically
(SET NX), the others wait for its answer within their deadline, or get 409 idempotency_in_progress. The same key
with another body is 422 idempotency_key_reused. An answer below 500 is kept for IDEMPOTENCY_TTL; a 5xx or a
timeout releases the key, so the caller may retry with it.
"""

from __future__ import annotations

import json
from typing import Any

from errors import InvalidIdempotencyKey
from state.keys import digest

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255


def parse_key(raw: str | None) -> str | None:
    """The key from the header (a plain string, or the draft's structured-field string "..."), or None when absent."""
    if raw is None:
        return None
    key = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] == '"' else raw
    if not key or len(key) > MAX_KEY_LENGTH or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise InvalidIdempotencyKey(f"Send an Idempotency-Key of 1 to {MAX_KEY_LENGTH} characters with no control "
                                    "characters (a UUID is a good one)")
    return key


def fingerprint(route: str, body: dict[str, Any]) -> str:
    """What makes two requests the same: the route and the body's JSON, key order aside."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return digest(route, canonical)
