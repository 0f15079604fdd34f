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
    shared = settings.state
    state = f"Redis (prefix {shared.redis_key_prefix})" if shared.redis_url else shared.state_dir
    limit = settings.serving.owner_rate_limit or "off"
    polls = settings.serving.owner_status_rate_limit or "off"
    budget = "not counted" if not settings.stackone.rate_limit else \
        f"{settings.stackone.rate_limit} " + ("shared in Redis" if settings.state.redis_url else
                                              f"split over {settings.serving.web_concurrency} workers")
    notes = [(logging.INFO, f"StackOne at {settings.stackone.api_url}; owner from {settings.login.owner_auth}; "
                            f"account cache {settings.stackone.account_cache_ttl}s; shared state in {state}; "
                            f"per-owner limit {limit} (status polls that ask StackOne: {polls}); "
                            f"StackOne budget {budget}")]
    if not settings.events.webhook_secrets:
        notes.append((logging.WARNING, "STACKONE_WEBHOOK_SECRETS is not set: POST /stackone_webhooks answers 503 "
                                       "and accepts no events"))
        if settings.links.base_url:
            # A link is completed by StackOne's account event: without them it opens until it expires.
            notes.append((logging.WARNING, "AUTH_LINK_BASE_URL is set without STACKONE_WEBHOOK_SECRETS: a link is "
                                           "never marked completed, so it keeps opening the hub (and holding its "
                                           "place under ACCOUNT_LIMITS) until it expires or is withdrawn"))
    return notes


def check_configuration(env: Mapping[str, str] | None = None) -> list[tuple[int, str]]:
    """Raise ConfigError as create_app would; return the start-up notes."""
    return checked_settings(env)[1]


def checked_settings(env: Mapping[str, str] | None = None) -> tuple[Settings, list[tuple[int, str]]]:
    """The settings, parsed once for gunicorn's master and checked as create_app would (raises ConfigError), and
    the start-up notes.

    The master must not import requests or urllib3: the gevent worker patches the socket and ssl modules
    after the fork, and a module that already holds the unpatched ssl would block the whole worker on TLS.
    """
    env = os.environ if env is None else env
    settings = Settings.from_env(env)
    if settings.login.owner_auth == "jwt":
        verification_key(settings.login)  # parses the public key; PyJWT itself is not imported here
    if not settings.state.redis_url:
        # Redis is not contacted: gunicorn starts (not ready) while it is down.
        open_sqlite_state(settings.state.state_dir)
    return settings, startup_notes(settings) + [(logging.WARNING, line) for line in unknown_settings(env)]
