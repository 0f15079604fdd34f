"""Owner from a legacy Flask app's server-side session: Flask-Session's Redis backend, read only, never written.

The cookie holds a session id (signed with the app's SECRET_KEY when the app set SESSION_USE_SIGNER); the session
lives at SESSION_KEY_PREFIX + id in Redis, as MessagePack (Flask-Session 0.6 and later, msgspec). Older versions
pickled it: a pickle is never read (whoever can write that Redis would then run code here), so such a session is
refused as unreadable.
"""

from __future__ import annotations

import logging

import msgspec
import redis
from itsdangerous import BadSignature, Signer

from config import LoginSettings
from errors import StateUnavailable, Unauthorized
from identity.owner import Owner, owner_from_claims

log = logging.getLogger("identity")
REFUSED = "The session cookie is not valid or has expired"


class FlaskSessionRedisResolver:
    """Reads the session id from the legacy app's cookie and the session from its Flask-Session Redis."""

    def __init__(self, settings: LoginSettings, redis_timeout: float) -> None:
        self._settings = settings
        self._redis = redis.Redis.from_url(settings.legacy_session_redis_url, socket_timeout=redis_timeout,
                                           socket_connect_timeout=redis_timeout)
        self._decode = msgspec.msgpack.Decoder().decode
        self._signer = Signer([*settings.legacy_secret_key_fallbacks, settings.legacy_secret_key],
                              salt="flask-session", key_derivation="hmac") if settings.legacy_session_use_signer \
            else None

    def resolve(self, headers, cookies) -> Owner:
        """Return the caller's owner or raise Unauthorized."""
        s = self._settings
        sid = cookies.get(s.legacy_session_cookie)
        if not sid:
            raise Unauthorized("Log in first: no session cookie was sent")
        if self._signer is not None:
            try:
                sid = self._signer.unsign(sid).decode()
            except (BadSignature, UnicodeDecodeError):
                log.info("login refused: session id with a bad signature (is LEGACY_SECRET_KEY the app's SECRET_KEY?)")
                raise Unauthorized(REFUSED) from None
        if len(sid) > 256:
            raise Unauthorized(REFUSED)
        try:
            raw = self._redis.get(s.legacy_session_key_prefix + sid)
        except redis.RedisError as exc:
            log.warning("the legacy app's session store (LEGACY_SESSION_REDIS_URL) is unavailable (%s)",
                        type(exc).__name__)
            raise StateUnavailable("Your login could not be checked just now (the legacy app's session store is "
                                   "unavailable); try again shortly", headers={"Retry-After": "5"}) from None
        if raw is None:
            log.info("login refused: no such session in the legacy app's store (expired or logged out)")
            raise Unauthorized(REFUSED)
        try:
            data = self._decode(raw)
        except (msgspec.DecodeError, ValueError):
            log.info("login refused: the stored session is not MessagePack (Flask-Session before 0.6 pickles; "
                     "this service never unpickles)")
            raise Unauthorized(REFUSED) from None
        except RecursionError:
            # Nested deeper than any login (whoever can write that Redis made it): unreadable like the rest.
            log.info("login refused: the stored session is nested too deep to read")
            raise Unauthorized(REFUSED) from None
        if not isinstance(data, dict):
            raise Unauthorized(REFUSED)
        return owner_from_claims(data, s.owner_id_field, s.owner_name_field, s.owner_username_field,
                                 source="session key")
