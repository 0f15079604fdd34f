"""The shared pieces of every settings group: the one error, and readers that name the variable they refuse."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import click

# What a shell, an .env file or a pasted line may leave around a value: ASCII whitespace only. A non-breaking or
# other Unicode space is not stripped, so that a key carrying one is refused rather than silently changed.
ASCII_WHITESPACE = " \t\r\n\v\f"
# SERVICE_NAME's default: it names the metadata's source, the state folder and the Redis key prefix.
DEFAULT_SERVICE_NAME = "stackone-connect-backend"
RATE = re.compile(r"\s*\d+\s*(/|per)\s*(\d+\s*)?(second|minute|hour|day)s?\s*", re.IGNORECASE)


# A ClickException so that `flask --app app ...` prints this one line instead of a traceback;
# gunicorn.conf.py and wsgi.py print the same line.
class ConfigError(click.ClickException):
    """The environment lacks or garbles a setting the service cannot run without."""


def split(value: str | None) -> tuple[str, ...]:
    """A comma-separated list, its items stripped and the empty ones dropped."""
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def text(env: Mapping[str, str], name: str, default: str) -> str:
    """A string setting, stripped; unset or blank: the default."""
    return env.get(name, "").strip() or default


def number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0) -> float:
    """A number setting at least `minimum`; unset or blank: the default."""
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


def pem(env: Mapping[str, str], name: str) -> str | None:
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


def redis_url(raw: str) -> str | None:
    """A URL redis-py's from_url reads, or None when blank."""
    if not raw:
        return None
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError("REDIS_URL must be a redis://, rediss:// or unix:// URL (as redis-py's from_url reads it)")
    return raw


def base_url(env: Mapping[str, str], name: str, default: str) -> str:
    """An http(s) URL with a host: 'api.stackone.com' alone would make every call fail as 'StackOne answered'."""
    raw = env.get(name, "").strip() or default
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(ch.isspace() for ch in raw):
        raise ConfigError(f"{name} must be an http:// or https:// URL with a host, like {default} (got {raw[:80]!r})")
    return raw


def rate_limit(raw: str | None, name: str, default: str) -> str:
    """A limit in the limits library's notation ("30/minute;300/hour"); empty disables it."""
    if raw is None:
        return default
    parts = [part for part in re.split(r"[;,]", raw) if part.strip()]
    if not all(RATE.fullmatch(part) for part in parts):
        raise ConfigError(f"{name} must look like {default} (got {raw!r})")
    return ";".join(part.strip() for part in parts)


def whole_number(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    """An integer setting from the environment; a mistyped one ('5s', 'two') is refused naming the variable."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ConfigError(f"{name} must be a whole number of at least {minimum} (got {raw[:40]!r})")
    return int(raw)
