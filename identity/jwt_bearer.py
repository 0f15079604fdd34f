"""Owner from an `Authorization: Bearer <JWT>` header, verified with PyJWT against one configured key."""

from __future__ import annotations

import jwt

from config import Settings
from errors import Unauthorized
from identity.keys import verification_key
from identity.owner import Owner, owner_from_claims


class JWTOwnerResolver:
    """Verifies the bearer token's signature, expiry and optional issuer/audience, then reads the owner."""

    def __init__(self, settings: Settings) -> None:
        self._key, self._algorithms = verification_key(settings)
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
