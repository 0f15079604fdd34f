"""What Auth Links of the customer's own read: AUTH_LINK_BASE_URL (where a link points) and AUTH_LINK_CLICK_LIFETIME."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from config.parsing import ConfigError, whole_number

CLICK_LIFETIME = {"default": 3600, "min": 60, "max": 86400}


@dataclass(frozen=True)
class LinkSettings:
    """AUTH_LINK_BASE_URL (unset: links are StackOne's own, as before) and AUTH_LINK_CLICK_LIFETIME."""

    base_url: str | None = None
    click_lifetime: int = CLICK_LIFETIME["default"]

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> LinkSettings:
        """The link settings."""
        return cls(base_url=_base_url(env.get("AUTH_LINK_BASE_URL", "").strip()),
                   click_lifetime=_click_lifetime(env))


def _base_url(raw: str) -> str | None:
    """An https origin (scheme and host, no path), or http on a loopback host for tests and the demo."""
    if not raw:
        return None
    usage = ("AUTH_LINK_BASE_URL must be an https:// origin like https://connect.example.com (http:// only on "
             f"loopback), with no path (got {raw[:80]!r})")
    try:
        parts = urlsplit(raw.rstrip("/"))
        host = parts.hostname
    except ValueError:
        raise ConfigError(usage) from None
    if (not host or parts.path or parts.query or parts.fragment or parts.username or parts.password
            or any(ch.isspace() for ch in raw) or parts.scheme not in ("https", "http")
            or parts.scheme == "http" and not _loopback(host)):
        raise ConfigError(usage)
    return f"{parts.scheme}://{parts.netloc}"


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _click_lifetime(env: Mapping[str, str]) -> int:
    """AUTH_LINK_CLICK_LIFETIME: seconds a click's StackOne session lives (StackOne's own range for a session)."""
    seconds = whole_number(env, "AUTH_LINK_CLICK_LIFETIME", CLICK_LIFETIME["default"], minimum=CLICK_LIFETIME["min"])
    if seconds > CLICK_LIFETIME["max"]:
        raise ConfigError(f"AUTH_LINK_CLICK_LIFETIME must be at most {CLICK_LIFETIME['max']} (seconds, a day)")
    return seconds
