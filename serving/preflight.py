"""What gunicorn's master checks before forking: the configuration, without importing requests or the app."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from config import Settings
from identity.keys import verification_key
from serving.unknown_settings import unknown_settings
from state import open_sqlite_state


def startup_notes(settings: Settings) -> list[tuple[int, str]]:
    """What the server's start-up log should say about this configuration: (level, line) pairs."""
    state = f"Redis (prefix {settings.redis_key_prefix})" if settings.redis_url else settings.state_dir
    limit = settings.owner_rate_limit or "off"
    polls = settings.owner_status_rate_limit or "off"
    budget = "not counted" if not settings.stackone_rate_limit else \
        f"{settings.stackone_rate_limit} " + ("shared in Redis" if settings.redis_url else
                                              f"split over {settings.web_concurrency} workers")
    notes = [(logging.INFO, f"StackOne at {settings.stackone_api_url}; owner from {settings.owner_auth}; "
                            f"account cache {settings.account_cache_ttl}s; shared state in {state}; "
                            f"per-owner limit {limit} (status polls that ask StackOne: {polls}); "
                            f"StackOne budget {budget}")]
    if not settings.webhook_secrets:
        notes.append((logging.WARNING, "STACKONE_WEBHOOK_SECRETS is not set: POST /stackone_webhooks answers 503 "
                                       "and accepts no events"))
    return notes


def check_configuration(env: Mapping[str, str] | None = None) -> list[tuple[int, str]]:
    """Raise ConfigError as create_app would; return the start-up notes.

    The master must not import requests or urllib3: the gevent worker patches the socket and ssl modules
    after the fork, and a module that already holds the unpatched ssl would block the whole worker on TLS.
    """
    env = os.environ if env is None else env
    settings = Settings.from_env(env)
    if settings.owner_auth == "jwt":
        verification_key(settings)  # parses the public key; PyJWT itself is not imported here
    if not settings.redis_url:
        open_sqlite_state(settings.state_dir)  # Redis is not contacted: gunicorn starts (not ready) while it is down
    return startup_notes(settings) + [(logging.WARNING, line) for line in unknown_settings(env)]
