"""Owner from an `Authorization: Bearer <JWT>` header, verified with PyJWT against one configured key."""

from __future__ import annotations

import logging

import jwt

from config import Settings
from errors import Unauthorized
from identity.keys import verification_key
from identity.owner import Owner, owner_from_claims

log = logging.getLogger("identity")


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
        except jwt.InvalidTokenError as exc:
            # The reason, never the token: lets an operator tell a misconfigured key from a bad login.
            log.info("login refused: %s", _reason(exc))
            detail = "The login token has expired" if isinstance(exc, jwt.ExpiredSignatureError) else \
                "The login token is not valid"
            raise Unauthorized(detail, headers={"WWW-Authenticate": "Bearer"}) from None
        return owner_from_claims(claims, s.owner_id_field, s.owner_name_field, s.owner_username_field,
                                 source="claim")


def _reason(exc: jwt.InvalidTokenError) -> str:
    """A short, token-free reason for the log."""
    reasons = [
        (jwt.ExpiredSignatureError, "expired"),
        (jwt.InvalidSignatureError, "bad signature (is OWNER_JWT_SECRET / OWNER_JWT_PUBLIC_KEY the issuer's?)"),
        (jwt.InvalidAlgorithmError, "wrong algorithm"),
        (jwt.MissingRequiredClaimError, "missing required claim"),
        (jwt.InvalidIssuerError, "wrong issuer"),
        (jwt.InvalidAudienceError, "wrong audience"),
        (jwt.ImmatureSignatureError, "not valid yet"),
        (jwt.DecodeError, "not a well-formed JWT"),
    ]
    for kind, reason in reasons:
        if isinstance(exc, kind):
            if isinstance(exc, jwt.MissingRequiredClaimError):
                return f"{reason} '{exc.claim}'"
            return reason
    return type(exc).__name__
