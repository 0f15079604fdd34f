"""What the session path reads: what every session is minted with, the caps, reuse and Idempotency-Key records."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from config.parsing import ConfigError, number
from domain.limits import TOTAL, AccountLimits

SESSION_TYPES = ("production", "test")


@dataclass(frozen=True)
class SessionPathSettings:
    """STACKONE_METADATA, STACKONE_SESSION_TYPE, STACKONE_CONNECTOR_PROFILES, ACCOUNT_LIMITS and the two windows."""

    metadata: dict = field(default_factory=dict)
    session_type: str = "production"
    connector_profiles: dict = field(default_factory=dict)
    account_limits: AccountLimits | None = None
    idempotency_ttl: int = 24 * 3600
    reuse_window: int = 60

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, service_name: str,
                 enabled: frozenset[str] | None) -> SessionPathSettings:
        """The session settings; providers named must be among `enabled` (STACKONE_ENABLED_PROVIDERS) when set."""
        return cls(
            metadata=_metadata(env, service_name),
            session_type=_session_type(env.get("STACKONE_SESSION_TYPE", "")),
            connector_profiles=_connector_profiles(env.get("STACKONE_CONNECTOR_PROFILES", ""), enabled),
            account_limits=_account_limits(env.get("ACCOUNT_LIMITS", ""), enabled),
            idempotency_ttl=int(number(env, "IDEMPOTENCY_TTL", 24 * 3600, minimum=1)),
            reuse_window=int(number(env, "SESSION_REUSE_WINDOW", 60)),
        )


def _metadata(env: Mapping[str, str], service_name: str) -> dict:
    """STACKONE_METADATA: a JSON object; unset: {"source": SERVICE_NAME}."""
    if not env.get("STACKONE_METADATA", "").strip():
        return {"source": service_name}
    try:
        metadata = json.loads(env["STACKONE_METADATA"])
    except ValueError:
        raise ConfigError("STACKONE_METADATA must be a JSON object") from None
    if not isinstance(metadata, dict):
        raise ConfigError("STACKONE_METADATA must be a JSON object")
    return metadata


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


def _account_limits(raw: str, enabled: frozenset[str] | None) -> AccountLimits:
    """ACCOUNT_LIMITS: total=N and provider=N pairs, comma-separated; unset: no caps."""
    total, per_provider = None, {}
    for pair in (p for p in raw.split(",") if p.strip()):
        name, sep, count = pair.strip().partition("=")
        name = name.strip().lower()
        if not sep or not name or not count.strip().isdigit() or int(count) < 1:
            raise ConfigError(f"ACCOUNT_LIMITS must be name=N pairs like total=5,hibob=1 (got {pair.strip()[:60]!r})")
        if name == TOTAL:
            total = int(count)
        elif enabled is not None and name not in enabled:
            raise ConfigError(f"ACCOUNT_LIMITS names {name!r}, which is not in STACKONE_ENABLED_PROVIDERS")
        else:
            per_provider[name] = int(count)
    return AccountLimits(total, per_provider)
