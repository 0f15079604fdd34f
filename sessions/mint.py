"""The mint itself: the POST /connect_sessions body the policy's decision makes, StackOne's answer as an IssuedSession,
the link passed on only on StackOne's origins, and a session's outcome read back."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from domain.accounts import SessionDetails
from domain.times import iso_utc
from identity.owner import Owner
from policy import Action, Decision, SessionRequest
from policy.lifecycle import completion_from_accounts
from stackone.client import StackOneClient

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IssuedSession:
    """A minted connect session: what the policy decided and what StackOne gave back."""

    decision: Decision
    token: str
    link: str
    expires_in: int
    expires_at: datetime
    session_id: str | None = None  # StackOne's id for the session, for the audit trail

    def audit_fields(self) -> dict[str, Any]:
        """What the audit trail records of this session: never the token or the link."""
        return {"action": self.decision.action.value, "provider": self.decision.provider,
                "account_id": self.decision.account_id, "expires_at": self.as_json()["expiresAt"],
                "stackone_session_id": self.session_id}

    def as_json(self) -> dict[str, Any]:
        """The fields common to both endpoints' answers (camelCase, ISO 8601 UTC)."""
        body: dict[str, Any] = {
            "token": self.token,
            "action": self.decision.action.value,
            "provider": self.decision.provider,
            "expiresIn": self.expires_in,
            "expiresAt": iso_utc(self.expires_at),
        }
        if self.decision.action is Action.UPDATE:
            body["accountId"] = self.decision.account_id
        return body


@dataclass(frozen=True)
class SessionSettings:
    """What the operator decides for every session: StackOne's session type, metadata, hub and connector profiles."""

    metadata: dict
    hub_url: str
    api_url: str
    session_type: str = "production"
    connector_profiles: Mapping[str, str] = field(default_factory=dict)


def session_payload(owner: Owner, request: SessionRequest, decision: Decision, settings: SessionSettings
                    ) -> dict[str, Any]:
    """The POST /connect_sessions body: owner from the login, the rest from the decision, request and settings."""
    payload: dict[str, Any] = {
        "origin_owner_id": owner.id,
        "origin_owner_name": owner.name,
        "origin_username": request.origin_username or owner.username,
        "provider": decision.provider,
        "categories": list(request.categories) or None,
        "account_id": decision.account_id,
        "label": request.label,
        "expires_in": request.expires_in,
        "metadata": settings.metadata,
        # Server-side only (a body `type` is refused): a staging deployment makes test sessions and test accounts.
        "type": settings.session_type,
        # Only a provider's own session names its profile; a category-only session has none to route.
        "connector_profile_id": settings.connector_profiles.get(decision.provider or ""),
    }
    if decision.action is Action.MULTIPLE:
        payload["multiple"] = True  # only sent when true; `provider_version` is never sent
    return {k: v for k, v in payload.items() if v is not None}


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme.lower(), parts.netloc.lower()


def safe_link(url: str | None, *, trusted: tuple[str, ...]) -> bool:
    """True for a URL on one of the trusted origins (StackOne's hub, its API): never another host, never javascript:.

    A link we pass on is a page our user is sent to with a live session token in it: it must be StackOne's.
    """
    if not url or any(ch.isspace() or ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return False
    try:
        scheme, host = _origin(url)
    except ValueError:
        return False
    return bool(host) and scheme in ("https", "http") and (scheme, host) in {_origin(t) for t in trusted}


def auth_link(offered: str | None, token: str, *, hub_url: str, api_url: str) -> str:
    """StackOne's auth_link_url when it is on the hub's or the API's origin; otherwise one built on STACKONE_HUB_URL."""
    if safe_link(offered, trusted=(hub_url, api_url)):
        return offered
    if offered:
        try:
            host = urlsplit(offered).netloc[:100]
        except ValueError:
            host = "?"
        # The host only: the link itself carries the session token.
        log.warning("StackOne's auth_link_url is not on STACKONE_HUB_URL's or the API's origin (host %r); "
                    "passing on a link built from STACKONE_HUB_URL instead", host)
    return f"{hub_url}?{urlencode({'token': token})}"


def mint_session(owner: Owner, request: SessionRequest, decision: Decision, *, client: StackOneClient,
                 settings: SessionSettings) -> IssuedSession:
    """Ask StackOne for the session the policy decided on."""
    started = datetime.now(UTC)
    session = client.create_connect_session(session_payload(owner, request, decision, settings))
    link = auth_link(session.auth_link_url, session.token, hub_url=settings.hub_url, api_url=settings.api_url)
    expires_at = started + timedelta(seconds=request.expires_in)
    return IssuedSession(decision, session.token, link, request.expires_in, expires_at, session.id)


def session_outcome(client: StackOneClient, owner_id: str, token: str) -> SessionDetails:
    """StackOne's details of a session; when they report no connection attempt (a field no SDK has), the outcome
    read off the owner's accounts, asked live. Another owner's session is returned as it is (the caller refuses it)."""
    details = client.authenticate_session(token)
    if details.reports_attempts or details.origin_owner_id != owner_id:
        return details
    return completion_from_accounts(details, client.list_accounts(owner_id, details.provider))
