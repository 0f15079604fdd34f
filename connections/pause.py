"""Delivery to APP_WEBHOOK_URL paused after it answered `410 Gone` (Standard Webhooks: the endpoint is gone), until
the operator resumes it; kept in the shared state, so every worker and host stops and resumes together."""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

from domain.times import iso_utc
from state import SharedState, keys

log = logging.getLogger(__name__)

# As long as Redis keeps any key here (state.redis_state.LONGEST_TTL) and as long as the outbox keeps an event: a
# pause forgotten for a month lapses, and the next 410 pauses delivery again (nothing is lost meanwhile).
PAUSE_TTL = 30 * 24 * 3600


def endpoint_origin(url: str) -> str:
    """The URL's scheme, host and port only: its path, query and credentials may be secrets, and are never shown."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}"


class EndpointPause:
    """The paused flag for APP_WEBHOOK_URL: `pause` on a 410, `paused` for every pass and /readyz, `resume`."""

    def __init__(self, state: SharedState, url: str) -> None:
        self._state = state
        self._origin = endpoint_origin(url)

    def paused(self) -> dict[str, Any] | None:
        """The pause record (`since`, `status`), or None while delivery runs."""
        value = self._state.get(keys.ENDPOINT_PAUSED)
        return value if isinstance(value, dict) else None

    def pause(self, status: int, held: int) -> bool:
        """Record the pause (the first worker to see a 410 says so); False if it was paused already."""
        if not self._state.add(keys.ENDPOINT_PAUSED, {"since": time.time(), "status": status}, ttl=PAUSE_TTL):
            return False
        log.error("APP_WEBHOOK_URL (%s) answered %d Gone: delivery paused, %d events held in the queue until an "
                  "operator runs resume-events", self._origin, status, held)
        return True

    def resume(self) -> bool:
        """Clear the pause; True if delivery was paused."""
        was = self.paused() is not None
        self._state.delete(keys.ENDPOINT_PAUSED)
        if was:
            log.warning("delivery to APP_WEBHOOK_URL (%s) resumed by the operator", self._origin)
        return was

    def reason(self) -> str | None:
        """What /readyz says while paused (naming the setting and the endpoint's origin, never its path), else None."""
        record = self.paused()
        if record is None:
            return None
        since = iso_utc(float(record.get("since") or 0))
        return (f"APP_WEBHOOK_URL ({self._origin}) answered {record.get('status', 410)} Gone at {since}: events are "
                "held, not sent, until resume-events")
