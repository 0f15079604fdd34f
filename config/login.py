"""What identity/ reads to find the caller's owner: a JWT's keys and claims, or the legacy app's session."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from config.parsing import ConfigError, number, pem, redis_url, split, text

OWNER_AUTH_MODES = ("jwt", "flask-session")


@dataclass(frozen=True)
class LoginSettings:
    """OWNER_AUTH and the keys, cookie and claim names of that login."""

    owner_auth: str = ""
    jwt_secret: str | None = field(default=None, repr=False)
    jwt_public_key: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    legacy_secret_key: str | None = field(default=None, repr=False)
    # Flask 3.1's SECRET_KEY_FALLBACKS: older keys a cookie may still be signed with (verified, never signed with).
    legacy_secret_key_fallbacks: tuple[str, ...] = field(default=(), repr=False)
    # Where the legacy app keeps its sessions: "cookie" (Flask's own) or "redis" (Flask-Session's Redis backend).
    legacy_session_backend: str = "cookie"
    legacy_session_redis_url: str | None = field(default=None, repr=False)
    legacy_session_key_prefix: str = "session:"
    legacy_session_use_signer: bool = False
    legacy_session_cookie: str = "session"
    legacy_session_max_age: int = 31 * 24 * 3600
    owner_id_field: str = "org_id"
    owner_name_field: str = "org_name"
    owner_username_field: str = "email"

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, login_required: bool = True) -> LoginSettings:
        """The login settings; login_required=False lets OWNER_AUTH be unset (the operator's command line)."""
        owner_auth = env.get("OWNER_AUTH", "").strip()
        if owner_auth not in OWNER_AUTH_MODES and (login_required or owner_auth):
            raise ConfigError(f"OWNER_AUTH must be one of {', '.join(OWNER_AUTH_MODES)} (got {owner_auth!r})")
        jwt_secret, jwt_public_key = _jwt_keys(env, owner_auth)
        backend, redis_sessions, use_signer, legacy_secret = _legacy_session(env, owner_auth)
        return cls(
            owner_auth=owner_auth,
            jwt_secret=jwt_secret,
            jwt_public_key=jwt_public_key,
            jwt_issuer=env.get("OWNER_JWT_ISSUER") or None,
            jwt_audience=env.get("OWNER_JWT_AUDIENCE") or None,
            legacy_secret_key=legacy_secret,
            legacy_secret_key_fallbacks=split(env.get("LEGACY_SECRET_KEY_FALLBACKS")),
            legacy_session_backend=backend,
            legacy_session_redis_url=redis_sessions,
            legacy_session_key_prefix=env.get("LEGACY_SESSION_KEY_PREFIX", "session:"),
            legacy_session_use_signer=use_signer,
            legacy_session_cookie=text(env, "LEGACY_SESSION_COOKIE", "session"),
            legacy_session_max_age=int(number(env, "LEGACY_SESSION_MAX_AGE", 31 * 24 * 3600, minimum=1)),
            owner_id_field=text(env, "OWNER_ID_FIELD", "org_id"),
            owner_name_field=text(env, "OWNER_NAME_FIELD", "org_name"),
            owner_username_field=text(env, "OWNER_USERNAME_FIELD", "email"),
        )


def _jwt_keys(env: Mapping[str, str], owner_auth: str) -> tuple[str | None, str | None]:
    """OWNER_JWT_SECRET (HS256) or OWNER_JWT_PUBLIC_KEY (RS256/ES256): exactly one with OWNER_AUTH=jwt."""
    jwt_secret = env.get("OWNER_JWT_SECRET") or None
    jwt_public_key = pem(env, "OWNER_JWT_PUBLIC_KEY")
    if owner_auth == "jwt" and not (jwt_secret or jwt_public_key):
        raise ConfigError("OWNER_AUTH=jwt needs OWNER_JWT_SECRET (HS256) or OWNER_JWT_PUBLIC_KEY (RS256/ES256)")
    if owner_auth == "jwt" and jwt_secret and jwt_public_key:
        raise ConfigError("set only one of OWNER_JWT_SECRET and OWNER_JWT_PUBLIC_KEY")
    return jwt_secret, jwt_public_key


def _legacy_session(env: Mapping[str, str], owner_auth: str) -> tuple[str, str | None, bool, str | None]:
    """The legacy app's session store: backend, its Redis, whether ids are signed, and LEGACY_SECRET_KEY."""
    legacy_secret = env.get("LEGACY_SECRET_KEY") or None
    backend = env.get("LEGACY_SESSION_BACKEND", "").strip().lower() or "cookie"
    if backend not in ("cookie", "redis"):
        raise ConfigError(f"LEGACY_SESSION_BACKEND must be cookie or redis (got {backend[:40]!r})")
    use_signer = env.get("LEGACY_SESSION_USE_SIGNER", "").strip().lower() in ("1", "true", "yes")
    redis_sessions = redis_url(env.get("LEGACY_SESSION_REDIS_URL", "").strip()) if backend == "redis" else None
    if owner_auth == "flask-session" and backend == "redis" and not redis_sessions:
        raise ConfigError("LEGACY_SESSION_BACKEND=redis needs LEGACY_SESSION_REDIS_URL, the Redis the legacy "
                          "app's Flask-Session writes to")
    if owner_auth == "flask-session" and not legacy_secret and (backend == "cookie" or use_signer):
        raise ConfigError("OWNER_AUTH=flask-session needs LEGACY_SECRET_KEY, the legacy Flask app's SECRET_KEY")
    return backend, redis_sessions, use_signer, legacy_secret
