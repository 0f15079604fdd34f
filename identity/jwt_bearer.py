"""Owner from an `Authorization: Bearer <JWT>` header, verified with PyJWT against one configured key."""

from __future__ import annotations

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from config import ConfigError, Settings
from errors import Unauthorized
from identity.owner import Owner, owner_from_claims


class JWTOwnerResolver:
    """Verifies the bearer token's signature, expiry and optional issuer/audience, then reads the owner."""

    def __init__(self, settings: Settings) -> None:
        if settings.jwt_public_key:
            try:
                key = load_pem_public_key(settings.jwt_public_key.encode())
            except ValueError:
                raise ConfigError("OWNER_JWT_PUBLIC_KEY is not a valid PEM public key") from None
            if isinstance(key, rsa.RSAPublicKey):
                self._algorithms = ["RS256"]
            elif isinstance(key, ec.EllipticCurvePublicKey):
                self._algorithms = ["ES256"]
            else:
                raise ConfigError("OWNER_JWT_PUBLIC_KEY must be an RSA or EC (P-256) public key")
            self._key = key
        else:
            self._algorithms = ["HS256"]
            self._key = settings.jwt_secret
        self._settings = settings

    def resolve(self, headers, cookies) -> Owner:
        """Return the caller's owner or raise Unauthorized; the token itself is never echoed."""
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send the user's login token as 'Authorization: Bearer <token>'",
                               headers={"WWW-Authenticate": "Bearer"})
        s = self._settings
        try:
            # Only the configured algorithm is accepted, which rules out "none" and key-confusion tricks.
            claims = jwt.decode(
                token.strip(), self._key, algorithms=self._algorithms,
                issuer=s.jwt_issuer, audience=s.jwt_audience,
                options={"require": ["exp"] + (["iss"] if s.jwt_issuer else []) + (["aud"] if s.jwt_audience else [])},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("The login token has expired", headers={"WWW-Authenticate": "Bearer"}) from None
        except jwt.InvalidTokenError:
            raise Unauthorized("The login token is not valid", headers={"WWW-Authenticate": "Bearer"}) from None
        return owner_from_claims(claims, s.owner_id_field, s.owner_name_field, s.owner_username_field)
