"""Sealed answers: a stored answer holds a live session token, so the shared state alone must not hand it out.

AES-256-GCM (the cryptography package, which PyJWT[crypto] already brings) with a key derived by HKDF-SHA256 from
the server's StackOne API key, and the record's own state key as associated data, so a sealed answer cannot be
moved to another key or owner. Rotating the API key makes stored answers unreadable: they then read as absent.
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


class Sealer:
    """Seal and open small texts bound to a state key."""

    def __init__(self, secret: str, purpose: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                   info=f"stackone-connect-backend {purpose} v1".encode()).derive(secret.encode())
        self._aead = AESGCM(key)

    def seal(self, text: str, bound_to: str) -> str:
        """The text encrypted and authenticated, as base64 (a fresh nonce each time)."""
        nonce = os.urandom(NONCE_BYTES)
        return base64.b64encode(nonce + self._aead.encrypt(nonce, text.encode(), bound_to.encode())).decode()

    def open(self, sealed: object, bound_to: str) -> str | None:
        """The text, or None when it was sealed for another key, with another secret, or damaged."""
        if not isinstance(sealed, str):
            return None
        try:
            raw = base64.b64decode(sealed, validate=True)
            return self._aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to.encode()).decode()
        except (ValueError, InvalidTag):
            return None
