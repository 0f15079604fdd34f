"""A variable that looks like one of ours but is not (ACCOUNT_LIMIT for ACCOUNT_LIMITS): one warning at start-up."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

# Every variable the service, its gunicorn settings and its workers read (docs/configuration.md lists them all but
# the last, gunicorn_settings' own marker between master and workers).
KNOWN_SETTINGS = frozenset({
    "STACKONE_API_KEY", "OWNER_AUTH", "OWNER_JWT_SECRET", "OWNER_JWT_PUBLIC_KEY", "OWNER_JWT_ISSUER",
    "OWNER_JWT_AUDIENCE", "LEGACY_SECRET_KEY", "LEGACY_SECRET_KEY_FALLBACKS", "LEGACY_SESSION_BACKEND",
    "LEGACY_SESSION_REDIS_URL", "LEGACY_SESSION_KEY_PREFIX", "LEGACY_SESSION_USE_SIGNER", "LEGACY_SESSION_COOKIE",
    "LEGACY_SESSION_MAX_AGE", "OWNER_ID_FIELD", "OWNER_NAME_FIELD", "OWNER_USERNAME_FIELD", "STACKONE_API_URL",
    "STACKONE_HUB_URL", "STACKONE_SESSION_TYPE", "STACKONE_CONNECTOR_PROFILES", "ACCOUNT_LIMITS", "IDEMPOTENCY_TTL",
    "SESSION_REUSE_WINDOW", "APP_WEBHOOK_URL", "APP_WEBHOOK_SECRET", "APP_WEBHOOK_TIMEOUT", "RECONNECT_REMINDER",
    "RECONCILE_INTERVAL", "CONNECTIONS_SWEEP_SECONDS",
    "ADMIN_TOKEN", "STACKONE_RATE_LIMIT", "STACKONE_BACKGROUND_SHARE",
    "STACKONE_TIMEOUT", "REQUEST_DEADLINE", "STACKONE_ENABLED_PROVIDERS", "CONNECTORS_CACHE_TTL",
    "STACKONE_WEBHOOK_SECRETS", "ACCOUNT_CACHE_TTL", "STATE_DIR", "REDIS_URL", "REDIS_KEY_PREFIX", "REDIS_TIMEOUT",
    "OWNER_RATE_LIMIT", "OWNER_STATUS_RATE_LIMIT", "TRUSTED_PROXY_COUNT", "STACKONE_METADATA", "SERVICE_NAME",
    "CORS_ALLOWED_ORIGINS", "AUTH_LINK_BASE_URL", "AUTH_LINK_CLICK_LIFETIME",
    "LOG_LEVEL", "LOG_FORMAT", "METRICS_BIND", "BIND", "PORT", "WEB_CONCURRENCY", "GUNICORN_WORKER_CONNECTIONS",
    "GUNICORN_KEEPALIVE", "BODY_READ_TIMEOUT", "GUNICORN_TIMEOUT", "GUNICORN_GRACEFUL_TIMEOUT", "GUNICORN_ACCESSLOG",
    "STACKONE_CONNECT_GUNICORN_MASTER",
})

# Prefixes only this service uses, so a variable under one of them that it does not know is a typo of ours. Left
# out on purpose, as other programs' too: REDIS_ (REDIS_HOST, a platform's REDIS_TLS_URL), LOG_, SERVICE_, FLASK_,
# PROMETHEUS_, and SANDBOX_, DEMO_, EXAMPLE_ (the sandbox's, `make run`'s and the example app's own settings).
OUR_PREFIXES = ("STACKONE_", "OWNER_", "LEGACY_", "ACCOUNT_", "APP_WEBHOOK_", "ADMIN_", "IDEMPOTENCY_",
                "SESSION_REUSE", "RECONNECT_", "RECONCILE_", "CONNECTOR", "GUNICORN_", "METRICS_", "TRUSTED_PROXY",
                "REQUEST_DEADLINE", "BODY_READ", "CORS_", "CONNECTIONS_", "AUTH_LINK")

# Other programs' variables under those prefixes: gunicorn's own, and the test suite's switch.
OTHERS = frozenset({"GUNICORN_CMD_ARGS", "GUNICORN_FD", "GUNICORN_PID", "GUNICORN_DIRTY_SOCKET",
                    "STACKONE_TESTS_REQUIRE_ALL"})


def unknown_settings(env: Mapping[str, str]) -> list[str]:
    """One warning line per variable with our prefix that no part of the service reads; never its value."""
    lines = []
    for name in sorted(env):
        if name in KNOWN_SETTINGS or name in OTHERS or not name.upper().startswith(OUR_PREFIXES):
            continue
        closest = difflib.get_close_matches(name.upper(), KNOWN_SETTINGS, n=1, cutoff=0)[0]
        lines.append(f"{name} is not a setting of this service and is ignored; did you mean {closest}?")
    return lines
