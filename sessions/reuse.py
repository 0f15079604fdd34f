"""Live-session reuse: the double click and the page reload get the session already minted, not a second one.

Two requests of one person for the same decision (action, provider or account, label, categories, lifetime, and
whether it is a connect session or an Auth Link) within SESSION_REUSE_WINDOW get the same session, while it is still
pending (not yet used to connect) and, for a link, while at least half its lifetime is left. Never across owners, and
never across the users of one owner: StackOne records the session's origin_username as who connected the account, so
another colleague's click must mint a session of their own.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from identity.owner import Owner
from policy import Decision, SessionRequest
from sessions.mint import IssuedSession
from state import keys


def reuse_key(owner: Owner, decision: Decision, request: SessionRequest) -> str:
    """The shared-state key of this person's session for this decision: everything StackOne is sent but the metadata
    and settings every session shares (the owner's id and name, who connects, what, for how long, session or link)."""
    # Both the login's user and the effective origin_username: a colleague naming another in originUsername still
    # holds a key of their own.
    return keys.reuse(owner.id, owner.name, owner.username or "", request.origin_username or owner.username or "",
                      request.kind,
                      decision.action.value, decision.provider or "", decision.account_id or "", request.label or "",
                      ",".join(sorted(request.categories)), str(request.expires_in))


# A session minted this recently cannot have been used to connect yet (the hub takes longer than this to fill in):
# it is handed out again without asking StackOne.
TRUSTED_SECONDS = 10.0


def as_record(issued: IssuedSession) -> dict[str, Any]:
    """What is kept (sealed) of a minted session to hand it out again."""
    return {"token": issued.token, "link": issued.link, "expires_in": issued.expires_in,
            "expires_at": issued.expires_at.timestamp(), "session_id": issued.session_id, "minted_at": time.time()}


def just_minted(record: dict[str, Any], now: float) -> bool:
    """True for a session minted under TRUSTED_SECONDS ago."""
    minted = record.get("minted_at")
    return isinstance(minted, (int, float)) and 0 <= now - minted < TRUSTED_SECONDS


def from_record(record: dict[str, Any], decision: Decision) -> IssuedSession:
    """The minted session again, for the same decision."""
    return IssuedSession(decision, record["token"], record["link"], int(record["expires_in"]),
                         datetime.fromtimestamp(float(record["expires_at"]), UTC), record.get("session_id"))


def half_life_left(record: dict[str, Any], now: float) -> bool:
    """True while at least half of the session's lifetime is left."""
    try:
        return float(record["expires_at"]) - now >= int(record["expires_in"]) / 2
    except (KeyError, TypeError, ValueError):
        return False
