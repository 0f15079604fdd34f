"""Owner from an `Authorization: Bearer <JWT>` header, verified with PyJWT against one configured key."""

from __future__ import annotations

import functools
import logging
import time
from typing import NoReturn

import jwt

from config import LoginSettings
from errors import Unauthorized
from identity.keys import verification_key
from identity.owner import Owner, owner_from_claims

log = logging.getLogger("identity")


class JWTOwnerResolver:
    """Verifies the bearer token's signature, expiry and optional issuer/audience, then reads the owner."""

    def __init__(self, settings: LoginSettings) -> None:
        self._key, self._algorithms = verification_key(settings)
        self._settings = settings
        # A page sends the same login token with every call: verify each token once, then only re-check its expiry.
        # Refusals raise, so they are never cached; the cache holds tokens already sent in this process's requests.
        self._verified = functools.lru_cache(maxsize=4096)(self._verify)

    def resolve(self, headers, cookies) -> Owner:
        """Return the caller's owner or raise Unauthorized; the token itself is never echoed."""
        scheme, _, token = headers.get("Authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send the user's login token as 'Authorization: Bearer <token>'",
                               headers={"WWW-Authenticate": "Bearer"})
        owner, expires = self._verified(token.strip())
        # PyJWT's own rule (expired once `exp` <= now): a cached token stops working the moment it expires.
        if expires <= time.time():
            _refuse(jwt.ExpiredSignatureError())
        return owner

    def _verify(self, token: str) -> tuple[Owner, float]:
        """The owner and expiry of a token whose signature, expiry and issuer/audience check out."""
        s = self._settings
        try:
            # Only the configured algorithm is accepted, which rules out "none" and key-confusion tricks.
            claims = jwt.decode(
                token, self._key, algorithms=self._algorithms,
                issuer=s.jwt_issuer, audience=s.jwt_audience,
                options={"require": ["exp"] + (["iss"] if s.jwt_issuer else []) + (["aud"] if s.jwt_audience else [])},
            )
        except jwt.InvalidTokenError as exc:
            _refuse(exc)
        owner = owner_from_claims(claims, s.owner_id_field, s.owner_name_field, s.owner_username_field,
                                  source="claim")
        return owner, float(claims["exp"])


def _refuse(exc: jwt.InvalidTokenError) -> NoReturn:
    """Log the reason (never the token), so an operator can tell a misconfigured key from a bad login; raise 401."""
    log.info("login refused: %s", _reason(exc))
    detail = "The login token has expired" if isinstance(exc, jwt.ExpiredSignatureError) else \
        "The login token is not valid"
    raise Unauthorized(detail, headers={"WWW-Authenticate": "Bearer"}) from None


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
