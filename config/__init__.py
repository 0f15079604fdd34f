"""Settings read from the environment once, in the app factory; a missing secret is a start-up error."""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import click

from domain.limits import TOTAL, AccountLimits

CATEGORIES = (
    "ats", "hris", "hris-legacy", "crm", "iam", "marketing", "lms", "stackone",
    "documents", "ticketing", "screening", "messaging", "accounting", "scheduling",
)
OWNER_AUTH_MODES = ("jwt", "flask-session")
DEFAULT_SERVICE_NAME = "stackone-connect-backend"
DEFAULT_OWNER_RATE_LIMIT = "30/minute;300/hour"
# Status polls that must ask StackOne (a kept outcome answers the rest): one open hub asks about 12 times a minute.
DEFAULT_OWNER_STATUS_RATE_LIMIT = "60/minute;600/hour"
DEFAULT_STACKONE_RATE_LIMIT = "1000/minute"  # StackOne's documented limit per API key
_RATE = re.compile(r"\s*\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day)s?\s*", re.IGNORECASE)


# A ClickException so that `flask --app app ...` prints this one line instead of a traceback;
# gunicorn.conf.py and wsgi.py print the same line.
class ConfigError(click.ClickException):
    """The environment lacks or garbles a setting the service cannot run without."""


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


# What a shell, an .env file or a pasted line may leave around a value: ASCII whitespace only. A non-breaking or
# other Unicode space is not stripped, so that a key carrying one is refused rather than silently changed.
ASCII_WHITESPACE = " \t\r\n\v\f"


def _enabled_providers(raw: str | None) -> frozenset[str] | None:
    """STACKONE_ENABLED_PROVIDERS: provider keys separated by commas; unset: what StackOne says is active."""
    keys = _split(raw)
    for key in keys:
        if any(ch.isspace() for ch in key):
            # "bamboohr hibob" would be one provider nobody has, and every request would say hibob is not enabled.
            raise ConfigError(f"STACKONE_ENABLED_PROVIDERS must be provider keys separated by commas, like "
                              f"bamboohr,hibob; a provider key has no spaces (got {key[:60]!r})")
    return frozenset(k.lower() for k in keys) if keys else None


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum:g}")
    return value


def _pem(env: Mapping[str, str], name: str) -> str | None:
    """Read a PEM given inline or as a path to a file."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if raw.startswith("-----BEGIN"):
        return raw.replace("\\n", "\n")
    path = Path(raw)
    if not path.is_file():
        raise ConfigError(f"{name} is neither a PEM key nor a readable file")
    return path.read_text()


_ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?", re.IGNORECASE)


def _origins(raw: str | None) -> tuple[str, ...]:
    """CORS_ALLOWED_ORIGINS: exact origins only (scheme://host[:port]); a wildcard or a path is a start-up error."""
    origins = []
    for item in _split(raw):
        origin = item[:-1] if item.endswith("/") else item
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(f"CORS_ALLOWED_ORIGINS: {item!r} is not an exact origin like https://app.example.com "
                              "(scheme://host[:port]; no wildcard, no path)")
        origins.append(origin.lower())
    return tuple(dict.fromkeys(origins))


def _redis_url(raw: str) -> str | None:
    if not raw:
        return None
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL must be a redis://, rediss:// or unix:// URL (as redis-py's from_url reads it)")
    return raw


def _rate_limit(raw: str | None, name: str = "OWNER_RATE_LIMIT", default: str = DEFAULT_OWNER_RATE_LIMIT) -> str:
    """A limit in the limits library's notation ("30/minute;300/hour"); empty disables it."""
    if raw is None:
        return default
    parts = [part for part in re.split(r"[;,]", raw) if part.strip()]
    if not all(_RATE.fullmatch(part) for part in parts):
        raise ConfigError(f"{name} must look like {default} (got {raw!r})")
    return ";".join(part.strip() for part in parts)


def _stackone_rate(raw: str | None) -> str:
    """STACKONE_RATE_LIMIT: one rule in the limits library's notation ("1000/minute"); empty: not counted."""
    if raw is None:
        return DEFAULT_STACKONE_RATE_LIMIT
    if raw.strip() and not _RATE.fullmatch(raw):
        raise ConfigError(f"STACKONE_RATE_LIMIT must be one rule like 1000/minute (got {raw[:40]!r})")
    return raw.strip()


def _share(env: Mapping[str, str]) -> float:
    share = _number(env, "STACKONE_BACKGROUND_SHARE", 0.2)
    if not 0 < share <= 0.5:
        # Background work never spends the last share of the budget either: past one half, mints would get less.
        raise ConfigError("STACKONE_BACKGROUND_SHARE must be more than 0 and at most 0.5")
    return share


def _bind(raw: str) -> str | None:
    if not raw:
        return None
    if not re.fullmatch(r"[A-Za-z0-9.\[\]:-]+:[0-9]{1,5}", raw):
        raise ConfigError(f"METRICS_BIND must be host:port, like 127.0.0.1:9100 (got {raw!r})")
    return raw


SESSION_TYPES = ("production", "test")


def _session_type(raw: str) -> str:
    kind = raw.strip() or "production"
    if kind not in SESSION_TYPES:
        raise ConfigError(f"STACKONE_SESSION_TYPE must be production or test (got {raw[:40]!r})")
    return kind


def _connector_profiles(raw: str, enabled: frozenset[str] | None) -> dict[str, str]:
    """STACKONE_CONNECTOR_PROFILES: provider=profile_id pairs, comma-separated, each provider once."""
    profiles: dict[str, str] = {}
    if not raw.strip():
        return profiles
    for pair in raw.split(","):
        provider, sep, profile = pair.partition("=")
        if not sep or not provider or not profile or any(ch.isspace() for ch in pair) or "=" in profile:
            raise ConfigError(f"STACKONE_CONNECTOR_PROFILES must be provider=profile_id pairs separated by commas, "
                              f"with no spaces (got {pair[:60]!r})")
        provider = provider.lower()
        if provider in profiles:
            raise ConfigError(f"STACKONE_CONNECTOR_PROFILES names {provider!r} twice")
        if enabled is not None and provider not in enabled:
            raise ConfigError(f"STACKONE_CONNECTOR_PROFILES names {provider!r}, which is not in "
                              "STACKONE_ENABLED_PROVIDERS")
        profiles[provider] = profile
    return profiles


def _account_limits(raw: str, enabled: frozenset[str] | None):
    """ACCOUNT_LIMITS: total=N and provider=N pairs, comma-separated; unset: no caps."""
    total, per_provider = None, {}
    for pair in (p for p in raw.split(",") if p.strip()):
        name, sep, number = pair.strip().partition("=")
        name = name.strip().lower()
        if not sep or not name or not number.strip().isdigit() or int(number) < 1:
            raise ConfigError(f"ACCOUNT_LIMITS must be name=N pairs like total=5,hibob=1 (got {pair.strip()[:60]!r})")
        if name == TOTAL:
            total = int(number)
        elif enabled is not None and name not in enabled:
            raise ConfigError(f"ACCOUNT_LIMITS names {name!r}, which is not in STACKONE_ENABLED_PROVIDERS")
        else:
            per_provider[name] = int(number)
    return AccountLimits(total, per_provider)


def _app_webhook(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """APP_WEBHOOK_URL and APP_WEBHOOK_SECRET: both or neither; the secret a Standard Webhooks `whsec_...` one."""
    url, secret = env.get("APP_WEBHOOK_URL", "").strip() or None, env.get("APP_WEBHOOK_SECRET", "").strip() or None
    if not url and not secret:
        return None, None
    if not (url and secret):
        raise ConfigError("set both APP_WEBHOOK_URL and APP_WEBHOOK_SECRET (events to your app are signed)")
    _base_url(env, "APP_WEBHOOK_URL", url)
    try:
        import base64

        text = secret.removeprefix("whsec_")
        key = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError:
        key = b""
    if not secret.startswith("whsec_") or len(key) < 24:
        raise ConfigError("APP_WEBHOOK_SECRET must be a Standard Webhooks secret: whsec_ and at least 24 random "
                          "bytes in base64")
    return url, secret


def _webhook_timeout(env: Mapping[str, str]) -> float:
    """APP_WEBHOOK_TIMEOUT: the whole send, connect to last byte; a receiver that trickles its answer is cut there."""
    seconds = _number(env, "APP_WEBHOOK_TIMEOUT", 10.0, minimum=0.5)
    if seconds > 30:
        # An event's claim (connections.outbox.CLAIM_TTL, 60 s) must outlive its send plus a reconnect link's mint.
        raise ConfigError("APP_WEBHOOK_TIMEOUT must be at most 30 (seconds)")
    return seconds


def _admin_token(raw: str) -> str | None:
    token = raw.strip() or None
    if token is not None and (len(token) < 24 or not token.isascii() or any(ch.isspace() for ch in token)):
        raise ConfigError("ADMIN_TOKEN must be at least 24 characters with no spaces (a random secret)")
    return token


def _base_url(env: Mapping[str, str], name: str, default: str) -> str:
    """An http(s) URL with a host: 'api.stackone.com' alone would make every call fail as 'StackOne answered'."""
    raw = env.get(name, "").strip() or default
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(ch.isspace() for ch in raw):
        raise ConfigError(f"{name} must be an http:// or https:// URL with a host, like {default} (got {raw[:80]!r})")
    return raw


def _log_format(raw: str) -> str:
    kind = raw.strip().lower() or "json"
    if kind not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text (got {raw!r})")
    return kind


def _log_level(raw: str) -> str:
    level = raw.strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL (got {raw!r})")
    return level


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment, validated."""

    stackone_api_key: str = field(repr=False)
    owner_auth: str
    stackone_api_url: str = "https://api.stackone.com"
    stackone_hub_url: str = "https://app.stackone.com/embedded/integrations"
    stackone_timeout: float = 10.0
    request_deadline: float = 12.0
    enabled_providers: frozenset[str] | None = None
    connectors_cache_ttl: int = 300
    account_cache_ttl: int = 0
    state_dir: str = ""
    service_name: str = DEFAULT_SERVICE_NAME
    metadata: dict = field(default_factory=dict)
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
    webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    cors_allowed_origins: tuple[str, ...] = ()
    redis_url: str | None = field(default=None, repr=False)
    redis_key_prefix: str = DEFAULT_SERVICE_NAME
    redis_timeout: float = 0.5
    owner_rate_limit: str = DEFAULT_OWNER_RATE_LIMIT
    owner_status_rate_limit: str = DEFAULT_OWNER_STATUS_RATE_LIMIT
    stackone_rate_limit: str = DEFAULT_STACKONE_RATE_LIMIT
    stackone_background_share: float = 0.2
    web_concurrency: int = 2  # gunicorn's workers per host: each counts its share of the budget without Redis
    trusted_proxy_count: int = 0
    metrics_bind: str | None = None
    log_level: str = "INFO"
    log_format: str = "json"
    session_type: str = "production"
    connector_profiles: dict = field(default_factory=dict)
    account_limits: AccountLimits | None = None
    app_webhook_url: str | None = None
    app_webhook_secret: str | None = field(default=None, repr=False)
    app_webhook_timeout: float = 10.0
    reconnect_reminder: int = 24 * 3600
    reconcile_interval: int = 15 * 60
    admin_token: str | None = field(default=None, repr=False)
    idempotency_ttl: int = 24 * 3600
    session_reuse_window: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, login_required: bool = True) -> Settings:
        """Build settings from an environment mapping (os.environ by default).

        login_required=False is for the operator's command line, which names the owner itself: OWNER_AUTH may
        then be unset (owner_auth ""), and no HTTP route can resolve a caller.
        """
        env = os.environ if env is None else env
        api_key = env.get("STACKONE_API_KEY", "").strip(ASCII_WHITESPACE)
        if not api_key:
            raise ConfigError("STACKONE_API_KEY is not set: the service cannot call StackOne without it")
        if not api_key.isascii() or not api_key.isprintable() or any(ch.isspace() for ch in api_key):
            # It travels in a Basic header: a pasted non-breaking space or curly quote would fail every call.
            raise ConfigError("STACKONE_API_KEY has a space or a character that is not ASCII: check how it was pasted")
        owner_auth = env.get("OWNER_AUTH", "").strip()
        if owner_auth not in OWNER_AUTH_MODES and (login_required or owner_auth):
            raise ConfigError(f"OWNER_AUTH must be one of {', '.join(OWNER_AUTH_MODES)} (got {owner_auth!r})")

        jwt_secret = env.get("OWNER_JWT_SECRET") or None
        jwt_public_key = _pem(env, "OWNER_JWT_PUBLIC_KEY")
        legacy_secret = env.get("LEGACY_SECRET_KEY") or None
        if owner_auth == "jwt" and not (jwt_secret or jwt_public_key):
            raise ConfigError("OWNER_AUTH=jwt needs OWNER_JWT_SECRET (HS256) or OWNER_JWT_PUBLIC_KEY (RS256/ES256)")
        if owner_auth == "jwt" and jwt_secret and jwt_public_key:
            raise ConfigError("set only one of OWNER_JWT_SECRET and OWNER_JWT_PUBLIC_KEY")
        backend = env.get("LEGACY_SESSION_BACKEND", "").strip().lower() or "cookie"
        if backend not in ("cookie", "redis"):
            raise ConfigError(f"LEGACY_SESSION_BACKEND must be cookie or redis (got {backend[:40]!r})")
        use_signer = env.get("LEGACY_SESSION_USE_SIGNER", "").strip().lower() in ("1", "true", "yes")
        redis_sessions = _redis_url(env.get("LEGACY_SESSION_REDIS_URL", "").strip()) if backend == "redis" else None
        if owner_auth == "flask-session" and backend == "redis" and not redis_sessions:
            raise ConfigError("LEGACY_SESSION_BACKEND=redis needs LEGACY_SESSION_REDIS_URL, the Redis the legacy "
                              "app's Flask-Session writes to")
        if owner_auth == "flask-session" and not legacy_secret and (backend == "cookie" or use_signer):
            raise ConfigError("OWNER_AUTH=flask-session needs LEGACY_SECRET_KEY, the legacy Flask app's SECRET_KEY")

        service_name = env.get("SERVICE_NAME", "").strip() or DEFAULT_SERVICE_NAME
        metadata = {"source": service_name}
        if env.get("STACKONE_METADATA", "").strip():
            try:
                metadata = json.loads(env["STACKONE_METADATA"])
            except ValueError:
                raise ConfigError("STACKONE_METADATA must be a JSON object") from None
            if not isinstance(metadata, dict):
                raise ConfigError("STACKONE_METADATA must be a JSON object")

        webhook_secrets = _split(env.get("STACKONE_WEBHOOK_SECRETS"))
        # Account lookups are cached only when webhooks can tell us a new account exists;
        # without them a cached "no account yet" would send the next user to create a duplicate.
        default_account_ttl = 60 if webhook_secrets else 0
        enabled_providers = _enabled_providers(env.get("STACKONE_ENABLED_PROVIDERS"))
        return cls(
            stackone_api_key=api_key,
            owner_auth=owner_auth,
            stackone_api_url=_base_url(env, "STACKONE_API_URL", cls.stackone_api_url).rstrip("/"),
            stackone_hub_url=_base_url(env, "STACKONE_HUB_URL", cls.stackone_hub_url),
            stackone_timeout=(timeout := _number(env, "STACKONE_TIMEOUT", 10.0, minimum=0.1)),
            # A little over one call's timeout: a caller waits at most this long, whatever the retries.
            request_deadline=_number(env, "REQUEST_DEADLINE", timeout + 2, minimum=0.1),
            enabled_providers=enabled_providers,
            connectors_cache_ttl=int(_number(env, "CONNECTORS_CACHE_TTL", 300)),
            account_cache_ttl=int(_number(env, "ACCOUNT_CACHE_TTL", default_account_ttl)),
            state_dir=env.get("STATE_DIR", "").strip()
            or os.path.join(tempfile.gettempdir(), f"{service_name}-state-{os.getuid()}"),
            service_name=service_name,
            metadata=metadata,
            jwt_secret=jwt_secret,
            jwt_public_key=jwt_public_key,
            jwt_issuer=env.get("OWNER_JWT_ISSUER") or None,
            jwt_audience=env.get("OWNER_JWT_AUDIENCE") or None,
            legacy_secret_key=legacy_secret,
            legacy_secret_key_fallbacks=_split(env.get("LEGACY_SECRET_KEY_FALLBACKS")),
            legacy_session_backend=backend,
            legacy_session_redis_url=redis_sessions,
            legacy_session_key_prefix=env.get("LEGACY_SESSION_KEY_PREFIX", "session:"),
            legacy_session_use_signer=use_signer,
            legacy_session_cookie=env.get("LEGACY_SESSION_COOKIE", "").strip() or "session",
            legacy_session_max_age=int(_number(env, "LEGACY_SESSION_MAX_AGE", 31 * 24 * 3600, minimum=1)),
            owner_id_field=env.get("OWNER_ID_FIELD", "").strip() or "org_id",
            owner_name_field=env.get("OWNER_NAME_FIELD", "").strip() or "org_name",
            owner_username_field=env.get("OWNER_USERNAME_FIELD", "").strip() or "email",
            webhook_secrets=webhook_secrets,
            cors_allowed_origins=_origins(env.get("CORS_ALLOWED_ORIGINS")),
            redis_url=_redis_url(env.get("REDIS_URL", "").strip()),
            redis_key_prefix=env.get("REDIS_KEY_PREFIX", "").strip() or service_name,
            redis_timeout=_number(env, "REDIS_TIMEOUT", 0.5, minimum=0.05),
            owner_rate_limit=_rate_limit(env.get("OWNER_RATE_LIMIT")),
            owner_status_rate_limit=_rate_limit(env.get("OWNER_STATUS_RATE_LIMIT"), "OWNER_STATUS_RATE_LIMIT",
                                                DEFAULT_OWNER_STATUS_RATE_LIMIT),
            stackone_rate_limit=_stackone_rate(env.get("STACKONE_RATE_LIMIT")),
            stackone_background_share=_share(env),
            # gunicorn's own default (serving/gunicorn_settings.py), read the same way.
            web_concurrency=int(_number(env, "WEB_CONCURRENCY", os.cpu_count() or 2, minimum=1)),
            trusted_proxy_count=int(_number(env, "TRUSTED_PROXY_COUNT", 0)),
            metrics_bind=_bind(env.get("METRICS_BIND", "").strip()),
            log_level=_log_level(env.get("LOG_LEVEL", "")),
            log_format=_log_format(env.get("LOG_FORMAT", "")),
            session_type=_session_type(env.get("STACKONE_SESSION_TYPE", "")),
            connector_profiles=_connector_profiles(env.get("STACKONE_CONNECTOR_PROFILES", ""), enabled_providers),
            account_limits=_account_limits(env.get("ACCOUNT_LIMITS", ""), enabled_providers),
            idempotency_ttl=int(_number(env, "IDEMPOTENCY_TTL", 24 * 3600, minimum=1)),
            session_reuse_window=int(_number(env, "SESSION_REUSE_WINDOW", 60)),
            app_webhook_url=(app_webhook := _app_webhook(env))[0],
            app_webhook_secret=app_webhook[1],
            app_webhook_timeout=_webhook_timeout(env),
            reconnect_reminder=int(_number(env, "RECONNECT_REMINDER", 24 * 3600, minimum=60)),
            reconcile_interval=int(_number(env, "RECONCILE_INTERVAL", 15 * 60)),
            admin_token=_admin_token(env.get("ADMIN_TOKEN", "")),
        )
