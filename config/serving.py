"""What the web layer and gunicorn read: listeners, workers, logs, browsers' origins, limits and the admin token."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from config.parsing import ConfigError, number, rate_limit, split, whole_number

DEFAULT_OWNER_RATE_LIMIT = "30/minute;300/hour"
# Status polls that must ask StackOne (a kept outcome answers the rest): one open hub asks about 12 times a minute.
DEFAULT_OWNER_STATUS_RATE_LIMIT = "60/minute;600/hour"
DEFAULT_BODY_READ_TIMEOUT = 10.0
_ORIGIN = re.compile(r"(https?)://([a-z0-9.-]+|\[[0-9a-f:.]+\])(:[0-9]{1,5})?", re.IGNORECASE)


@dataclass(frozen=True)
class ServingSettings:
    """What each worker's app serves with: logs, the metrics listener, proxies, CORS, per-owner limits, admin."""

    log_level: str = "INFO"
    log_format: str = "json"
    metrics_bind: str | None = None
    trusted_proxy_count: int = 0
    web_concurrency: int = 2  # gunicorn's workers per host: each counts its share of the budget without Redis
    cors_allowed_origins: tuple[str, ...] = ()
    owner_rate_limit: str = DEFAULT_OWNER_RATE_LIMIT
    owner_status_rate_limit: str = DEFAULT_OWNER_STATUS_RATE_LIMIT
    admin_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ServingSettings:
        """The serving settings."""
        return cls(
            log_level=_log_level(env.get("LOG_LEVEL", "")),
            log_format=log_format(env),
            metrics_bind=_bind(env.get("METRICS_BIND", "").strip()),
            trusted_proxy_count=int(number(env, "TRUSTED_PROXY_COUNT", 0)),
            web_concurrency=web_concurrency(env),
            cors_allowed_origins=_origins(env.get("CORS_ALLOWED_ORIGINS")),
            owner_rate_limit=rate_limit(env.get("OWNER_RATE_LIMIT"), "OWNER_RATE_LIMIT", DEFAULT_OWNER_RATE_LIMIT),
            owner_status_rate_limit=rate_limit(env.get("OWNER_STATUS_RATE_LIMIT"), "OWNER_STATUS_RATE_LIMIT",
                                               DEFAULT_OWNER_STATUS_RATE_LIMIT),
            admin_token=_admin_token(env.get("ADMIN_TOKEN", "")),
        )


@dataclass(frozen=True)
class GunicornSettings:
    """What gunicorn's master reads from its config file, before any worker exists; workers inherit it."""

    bind: str = "127.0.0.1:8000"
    workers: int = 2
    worker_connections: int = 1000
    timeout: int = 60
    graceful_timeout: int = 30
    keepalive: int = 5
    accesslog: str | None = None
    body_read_timeout: float = DEFAULT_BODY_READ_TIMEOUT
    log_format: str = "json"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> GunicornSettings:
        """gunicorn's settings from an environment mapping (os.environ by default)."""
        env = os.environ if env is None else env
        return cls(
            bind=env.get("BIND") or f"127.0.0.1:{env.get('PORT', '8000')}",
            workers=web_concurrency(env),
            worker_connections=whole_number(env, "GUNICORN_WORKER_CONNECTIONS", 1000, minimum=1),
            timeout=whole_number(env, "GUNICORN_TIMEOUT", 60, minimum=1),
            graceful_timeout=whole_number(env, "GUNICORN_GRACEFUL_TIMEOUT", 30),
            keepalive=whole_number(env, "GUNICORN_KEEPALIVE", 5),
            accesslog=env.get("GUNICORN_ACCESSLOG") or None,
            body_read_timeout=number(env, "BODY_READ_TIMEOUT", DEFAULT_BODY_READ_TIMEOUT, minimum=0.1),
            log_format=log_format(env),
        )


def web_concurrency(env: Mapping[str, str]) -> int:
    """WEB_CONCURRENCY: gunicorn's workers per host, read by gunicorn and by the budget's split alike."""
    return whole_number(env, "WEB_CONCURRENCY", os.cpu_count() or 2, minimum=1)


def log_format(env: Mapping[str, str]) -> str:
    """LOG_FORMAT: json (the default) or text."""
    raw = env.get("LOG_FORMAT", "")
    kind = raw.strip().lower() or "json"
    if kind not in ("json", "text"):
        raise ConfigError(f"LOG_FORMAT must be json or text (got {raw!r})")
    return kind


def refusal_format(env: Mapping[str, str] | None = None) -> str:
    """The format of a line refusing to start: LOG_FORMAT's, or text when LOG_FORMAT is itself what is refused."""
    try:
        return log_format(os.environ if env is None else env)
    except ConfigError:
        return "text"


def _log_level(raw: str) -> str:
    level = raw.strip().upper() or "INFO"
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ConfigError(f"LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL (got {raw!r})")
    return level


def _bind(raw: str) -> str | None:
    if not raw:
        return None
    if not re.fullmatch(r"[A-Za-z0-9.\[\]:-]+:[0-9]{1,5}", raw):
        raise ConfigError(f"METRICS_BIND must be host:port, like 127.0.0.1:9100 (got {raw!r})")
    return raw


def _origins(raw: str | None) -> tuple[str, ...]:
    """CORS_ALLOWED_ORIGINS: exact origins only (scheme://host[:port]); a wildcard or a path is a start-up error."""
    origins = []
    for item in split(raw):
        origin = item[:-1] if item.endswith("/") else item
        if not _ORIGIN.fullmatch(origin):
            raise ConfigError(f"CORS_ALLOWED_ORIGINS: {item!r} is not an exact origin like https://app.example.com "
                              "(scheme://host[:port]; no wildcard, no path)")
        origins.append(origin.lower())
    return tuple(dict.fromkeys(origins))


def _admin_token(raw: str) -> str | None:
    token = raw.strip() or None
    if token is not None and (len(token) < 24 or not token.isascii() or any(ch.isspace() for ch in token)):
        raise ConfigError("ADMIN_TOKEN must be at least 24 characters with no spaces (a random secret)")
    return token
