"""The key and algorithm a login JWT is verified with, read from the settings (cryptography only, no PyJWT)."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from config import ConfigError, LoginSettings


def verification_key(settings: LoginSettings) -> tuple[Any, list[str]]:
    """(key, [algorithm]): the PEM public key as RS256 or ES256, else the shared secret as HS256."""
    if not settings.jwt_public_key:
        return settings.jwt_secret, ["HS256"]
    try:
        key = load_pem_public_key(settings.jwt_public_key.encode())
    except ValueError:
        raise ConfigError("OWNER_JWT_PUBLIC_KEY is not a valid PEM public key") from None
    if isinstance(key, rsa.RSAPublicKey):
        return key, ["RS256"]
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key, ["ES256"]
    raise ConfigError("OWNER_JWT_PUBLIC_KEY must be an RSA or EC (P-256) public key")
