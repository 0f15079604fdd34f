"""What the StackOne client and its account directory read: the key, the URLs, timeouts, caches and the budget."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from config.parsing import ASCII_WHITESPACE, RATE, ConfigError, base_url, number, split

CATEGORIES = (
    "ats", "hris", "hris-legacy", "crm", "iam", "marketing", "lms", "stackone",
    "documents", "ticketing", "screening", "messaging", "accounting", "scheduling",
)
DEFAULT_STACKONE_RATE_LIMIT = "1000/minute"  # StackOne's documented limit per API key
API_URL = "https://api.stackone.com"
HUB_URL = "https://app.stackone.com/embedded/integrations"


@dataclass(frozen=True)
class StackOneSettings:
    """STACKONE_API_KEY and what the calls to StackOne are made with."""

    api_key: str = field(repr=False)
    api_url: str = API_URL
    hub_url: str = HUB_URL
    timeout: float = 10.0
    request_deadline: float = 12.0
    enabled_providers: frozenset[str] | None = None
    connectors_cache_ttl: int = 300
    account_cache_ttl: int = 0
    rate_limit: str = DEFAULT_STACKONE_RATE_LIMIT
    background_share: float = 0.2

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, events_signed: bool) -> StackOneSettings:
        """The StackOne settings; `events_signed` (STACKONE_WEBHOOK_SECRETS set) turns the account cache on."""
        api_key = _api_key(env)
        # Account lookups are cached only when webhooks can tell us a new account exists;
        # without them a cached "no account yet" would send the next user to create a duplicate.
        default_account_ttl = 60 if events_signed else 0
        enabled_providers = _enabled_providers(env.get("STACKONE_ENABLED_PROVIDERS"))
        timeout = number(env, "STACKONE_TIMEOUT", 10.0, minimum=0.1)
        return cls(
            api_key=api_key,
            api_url=base_url(env, "STACKONE_API_URL", API_URL).rstrip("/"),
            hub_url=base_url(env, "STACKONE_HUB_URL", HUB_URL),
            timeout=timeout,
            # A little over one call's timeout: a caller waits at most this long, whatever the retries.
            request_deadline=number(env, "REQUEST_DEADLINE", timeout + 2, minimum=0.1),
            enabled_providers=enabled_providers,
            connectors_cache_ttl=int(number(env, "CONNECTORS_CACHE_TTL", 300)),
            account_cache_ttl=int(number(env, "ACCOUNT_CACHE_TTL", default_account_ttl)),
            rate_limit=_stackone_rate(env.get("STACKONE_RATE_LIMIT")),
            background_share=_share(env),
        )


def _api_key(env: Mapping[str, str]) -> str:
    api_key = env.get("STACKONE_API_KEY", "").strip(ASCII_WHITESPACE)
    if not api_key:
        raise ConfigError("STACKONE_API_KEY is not set: the service cannot call StackOne without it")
    if not api_key.isascii() or not api_key.isprintable() or any(ch.isspace() for ch in api_key):
        # It travels in a Basic header: a pasted non-breaking space or curly quote would fail every call.
        raise ConfigError("STACKONE_API_KEY has a space or a character that is not ASCII: check how it was pasted")
    return api_key


def _enabled_providers(raw: str | None) -> frozenset[str] | None:
    """STACKONE_ENABLED_PROVIDERS: provider keys separated by commas; unset: what StackOne says is active."""
    keys = split(raw)
    for key in keys:
        if any(ch.isspace() for ch in key):
            # "bamboohr hibob" would be one provider nobody has, and every request would say hibob is not enabled.
            raise ConfigError(f"STACKONE_ENABLED_PROVIDERS must be provider keys separated by commas, like "
                              f"bamboohr,hibob; a provider key has no spaces (got {key[:60]!r})")
    return frozenset(k.lower() for k in keys) if keys else None


def _stackone_rate(raw: str | None) -> str:
    """STACKONE_RATE_LIMIT: one rule in the limits library's notation ("1000/minute"); empty: not counted."""
    if raw is None:
        return DEFAULT_STACKONE_RATE_LIMIT
    if raw.strip() and not RATE.fullmatch(raw):
        raise ConfigError(f"STACKONE_RATE_LIMIT must be one rule like 1000/minute (got {raw[:40]!r})")
    return raw.strip()


def _share(env: Mapping[str, str]) -> float:
    share = number(env, "STACKONE_BACKGROUND_SHARE", 0.2)
    if not 0 < share <= 0.5:
        # Background work never spends the last share of the budget either: past one half, mints would get less.
        raise ConfigError("STACKONE_BACKGROUND_SHARE must be more than 0 and at most 0.5")
    return share
