"""Owner from a legacy Flask app's signed session cookie, verified exactly as Flask signs it."""

from __future__ import annotations

import logging

from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from config import LoginSettings
from errors import Unauthorized
from identity.owner import Owner, owner_from_claims

log = logging.getLogger("identity")


class FlaskSessionOwnerResolver:
    """Reads the legacy app's `session` cookie with its SECRET_KEY, using Flask's own salt and serializer."""

    def __init__(self, settings: LoginSettings) -> None:
        flask_way = SecureCookieSessionInterface
        self._serializer = URLSafeTimedSerializer(
            # As Flask 3.1 does with SECRET_KEY_FALLBACKS: every key verifies, the last (current) one signs.
            [*settings.legacy_secret_key_fallbacks, settings.legacy_secret_key],
            salt=flask_way.salt,
            serializer=flask_way.serializer,
            signer_kwargs={"key_derivation": flask_way.key_derivation, "digest_method": flask_way.digest_method},
        )
        self._settings = settings

    def resolve(self, headers, cookies) -> Owner:
        """Return the caller's owner or raise Unauthorized."""
        s = self._settings
        cookie = cookies.get(s.legacy_session_cookie)
        if not cookie:
            raise Unauthorized("Log in first: no session cookie was sent")
        try:
            # Flask itself refuses cookies older than PERMANENT_SESSION_LIFETIME; so do we.
            data = self._serializer.loads(cookie, max_age=s.legacy_session_max_age)
        except SignatureExpired:
            log.info("login refused: session cookie older than LEGACY_SESSION_MAX_AGE")
            raise Unauthorized("The session cookie is not valid or has expired") from None
        except BadSignature:
            log.info("login refused: session cookie with a bad signature (is LEGACY_SECRET_KEY the app's SECRET_KEY?)")
            raise Unauthorized("The session cookie is not valid or has expired") from None
        if not isinstance(data, dict):
            log.info("login refused: the session cookie holds no session")
            raise Unauthorized("The session cookie is not valid or has expired")
        return owner_from_claims(data, s.owner_id_field, s.owner_name_field, s.owner_username_field,
                                 source="session key")
