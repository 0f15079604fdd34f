"""Settings read from the environment once, in the app factory; a missing secret is a start-up error.

One group per consumer (config/stackone.py, login.py, sessions.py, state.py, events.py, serving.py, links.py), each a
frozen dataclass with its own from_env; `Settings` composes them: `settings.stackone.timeout`, `settings.links`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from config.events import EventSettings, webhook_secrets
from config.links import LinkSettings
from config.login import LoginSettings
from config.parsing import DEFAULT_SERVICE_NAME, ConfigError, text
from config.serving import DEFAULT_OWNER_RATE_LIMIT, ServingSettings
from config.sessions import SessionPathSettings
from config.stackone import CATEGORIES, StackOneSettings
from config.state import StateSettings

__all__ = [
    "CATEGORIES", "DEFAULT_OWNER_RATE_LIMIT", "ConfigError", "EventSettings", "LinkSettings", "LoginSettings",
    "Settings", "StackOneSettings", "StateSettings",
]


@dataclass(frozen=True)
class Settings:
    """Everything the service reads from its environment, validated, in one group per consumer."""

    stackone: StackOneSettings
    login: LoginSettings = field(default_factory=LoginSettings)
    sessions: SessionPathSettings = field(default_factory=SessionPathSettings)
    state: StateSettings = field(default_factory=StateSettings)
    events: EventSettings = field(default_factory=EventSettings)
    serving: ServingSettings = field(default_factory=ServingSettings)
    links: LinkSettings = field(default_factory=LinkSettings)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, login_required: bool = True) -> Settings:
        """Build settings from an environment mapping (os.environ by default).

        login_required=False is for the operator's command line, which names the owner itself: OWNER_AUTH may
        then be unset (owner_auth ""), and no HTTP route can resolve a caller.
        """
        env = os.environ if env is None else env
        # SERVICE_NAME only names defaults: the metadata's source, the state folder and the Redis key prefix.
        service_name = text(env, "SERVICE_NAME", DEFAULT_SERVICE_NAME)
        stackone = StackOneSettings.from_env(env, events_signed=bool(webhook_secrets(env)))
        return cls(
            stackone=stackone,
            login=LoginSettings.from_env(env, login_required=login_required),
            sessions=SessionPathSettings.from_env(env, service_name=service_name, enabled=stackone.enabled_providers),
            state=StateSettings.from_env(env, service_name=service_name),
            events=EventSettings.from_env(env),
            serving=ServingSettings.from_env(env),
            links=LinkSettings.from_env(env),
        )
