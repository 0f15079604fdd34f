"""What state/ reads: the folder of the SQLite state on one host, or the Redis a fleet shares."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field

from config.parsing import DEFAULT_SERVICE_NAME, number, redis_url, text


@dataclass(frozen=True)
class StateSettings:
    """STATE_DIR, or REDIS_URL with its key prefix and timeout."""

    state_dir: str = ""
    redis_url: str | None = field(default=None, repr=False)
    redis_key_prefix: str = DEFAULT_SERVICE_NAME
    redis_timeout: float = 0.5

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, service_name: str) -> StateSettings:
        """The state settings; SERVICE_NAME names the default folder and key prefix."""
        return cls(
            state_dir=text(env, "STATE_DIR", "")
            or os.path.join(tempfile.gettempdir(), f"{service_name}-state-{os.getuid()}"),
            redis_url=redis_url(env.get("REDIS_URL", "").strip()),
            redis_key_prefix=text(env, "REDIS_KEY_PREFIX", service_name),
            redis_timeout=number(env, "REDIS_TIMEOUT", 0.5, minimum=0.05),
        )
