"""What webhooks/ and connections/ read: StackOne's signing secrets, and the events sent on to your app."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field

from config.parsing import ConfigError, base_url, number, split

DEFAULT_SWEEP_SECONDS = 2.0


@dataclass(frozen=True)
class EventSettings:
    """STACKONE_WEBHOOK_SECRETS; APP_WEBHOOK_* and the reminders, reconcile passes and ticks that feed it."""

    webhook_secrets: tuple[str, ...] = field(default=(), repr=False)
    app_webhook_url: str | None = None
    app_webhook_secret: str | None = field(default=None, repr=False)
    app_webhook_timeout: float = 10.0
    reconnect_reminder: int = 24 * 3600
    reconcile_interval: int = 15 * 60
    # How often each worker's background loop asks the ledger what is due.
    sweep_seconds: float = DEFAULT_SWEEP_SECONDS

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> EventSettings:
        """The event settings."""
        url, secret = _app_webhook(env)
        return cls(
            webhook_secrets=webhook_secrets(env),
            app_webhook_url=url,
            app_webhook_secret=secret,
            app_webhook_timeout=_webhook_timeout(env),
            reconnect_reminder=int(number(env, "RECONNECT_REMINDER", 24 * 3600, minimum=60)),
            reconcile_interval=int(number(env, "RECONCILE_INTERVAL", 15 * 60)),
            sweep_seconds=_sweep_seconds(env),
        )


def webhook_secrets(env: Mapping[str, str]) -> tuple[str, ...]:
    """STACKONE_WEBHOOK_SECRETS: StackOne's signing secrets, comma-separated (more than one while rotating)."""
    return split(env.get("STACKONE_WEBHOOK_SECRETS"))


def _app_webhook(env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """APP_WEBHOOK_URL and APP_WEBHOOK_SECRET: both or neither; the secret a Standard Webhooks `whsec_...` one."""
    url, secret = env.get("APP_WEBHOOK_URL", "").strip() or None, env.get("APP_WEBHOOK_SECRET", "").strip() or None
    if not url and not secret:
        return None, None
    if not (url and secret):
        raise ConfigError("set both APP_WEBHOOK_URL and APP_WEBHOOK_SECRET (events to your app are signed)")
    base_url(env, "APP_WEBHOOK_URL", url)
    try:
        encoded = secret.removeprefix("whsec_")
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except ValueError:
        key = b""
    if not secret.startswith("whsec_") or len(key) < 24:
        raise ConfigError("APP_WEBHOOK_SECRET must be a Standard Webhooks secret: whsec_ and at least 24 random "
                          "bytes in base64")
    return url, secret


def _webhook_timeout(env: Mapping[str, str]) -> float:
    """APP_WEBHOOK_TIMEOUT: the whole send, connect to last byte; a receiver that trickles its answer is cut there."""
    seconds = number(env, "APP_WEBHOOK_TIMEOUT", 10.0, minimum=0.5)
    if seconds > 30:
        # An event's claim (connections.outbox.CLAIM_TTL, 60 s) must outlive its send plus a reconnect link's mint.
        raise ConfigError("APP_WEBHOOK_TIMEOUT must be at most 30 (seconds)")
    return seconds


def _sweep_seconds(env: Mapping[str, str]) -> float:
    """CONNECTIONS_SWEEP_SECONDS: the background tick; an idle tick is one call to the ledger."""
    seconds = number(env, "CONNECTIONS_SWEEP_SECONDS", DEFAULT_SWEEP_SECONDS, minimum=0.1)
    if seconds > 60:
        # Past a minute a delivery, a retry or a reminder would wait longer than its own schedule says.
        raise ConfigError("CONNECTIONS_SWEEP_SECONDS must be at most 60 (seconds)")
    return seconds
