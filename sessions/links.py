"""Auth Links of the customer's own (AUTH_LINK_BASE_URL): made, listed, withdrawn and clicked; no Flask here.

Made: decided now by the policy under the caps (a bad request or a full cap refuses at once, as a mint does), then
stored with only its URL secret's digest; nothing is minted at StackOne. A link decided as an update is pinned to
that account, as StackOne's own link for it was (a reconnect link reconnects that account), and like a reconnect it
holds no place under the caps; any other live link holds one (kind "link") until it ends.
Clicked: the click is recorded (only while the link is live, atomically), then the session path decides again from
the owner's accounts now and mints a session of AUTH_LINK_CLICK_LIFETIME for the link's owner and recipient, within
the caps, the link's own place not counted against it (the session holds none of its own: the link's is enough).
Withdrawn: by its owner only; another owner's handle is unknown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from domain import deadline
from domain.times import iso_utc
from errors import LinkEnded, LinkNotFound, StateUnavailable
from identity.owner import Owner
from links.model import WITHDRAWN, Link, is_handle, is_secret, new_link, secret_digest
from links.store import PAGE, LinkStore
from policy import Action, Decision, SessionRequest
from policy.caps import Reservation
from sessions.mint import IssuedSession
from sessions.service import SessionService

PATH = "/l/"  # a link's path on AUTH_LINK_BASE_URL: PATH + its URL secret
DRAWS = 3  # a fresh handle and secret taken already (a 72-bit and a 192-bit draw): draw again, this often at most


@dataclass(frozen=True)
class SentLink:
    """A link just made: the record, its URL (shown once: only its digest is kept), and the decision made now."""

    link: Link
    url: str
    decision: Decision

    def as_json(self) -> dict[str, Any]:
        """The answer of POST /stackone_auth_links with AUTH_LINK_BASE_URL set (no token: none exists yet)."""
        link = self.link
        body: dict[str, Any] = {"url": self.url, "id": link.handle, "action": self.decision.action.value,
                                "provider": self.decision.provider, "expiresIn": int(link.expires - link.created),
                                "expiresAt": iso_utc(link.expires), "status": "live"}
        if self.decision.action is Action.UPDATE:
            body["accountId"] = self.decision.account_id
        return body

    def audit_fields(self) -> dict[str, Any]:
        """What the audit trail records of it: never the URL."""
        return {"link_id": self.link.handle, "action": self.decision.action.value, "provider": self.decision.provider,
                "account_id": self.decision.account_id, "for_username": self.link.origin_username,
                "expires_at": iso_utc(self.link.expires)}


def link_json(link: Link, now: float) -> dict[str, Any]:
    """One link as GET /stackone_auth_links lists it (null for what is not known)."""
    def when(moment: float | None) -> str | None:
        return None if moment is None else iso_utc(moment)

    return {"id": link.handle, "status": link.status(now), "for": link.origin_username, "by": link.created_by,
            "provider": link.provider, "label": link.label, "createdAt": when(link.created),
            "expiresAt": when(link.expires), "firstClickAt": when(link.first_click),
            "lastClickAt": when(link.last_click), "clicks": link.clicks, "completedAt": when(link.completed_at),
            "accountId": link.completed_account or link.account_id}


def link_places(links: list[Link]) -> list[Reservation]:
    """The places live links hold under the caps: each but those pinned to an account (a reconnect is never capped)."""
    return [Reservation(link.provider, link.created, link.expires, holder=link.origin_username, kind="link",
                        link=link.handle)
            for link in links if link.account_id is None]


class LinkService:
    """Makes, lists, withdraws and clicks the owners' links, over a link store and the session path."""

    def __init__(self, *, store: LinkStore, sessions: SessionService, base_url: str, click_lifetime: int,
                 clock: Callable[[], float] = time.time, spend: Callable[[str], None] | None = None) -> None:
        self._store = store
        self._sessions = sessions
        self._base_url = base_url.rstrip("/")
        self._click_lifetime = click_lifetime
        self._clock = clock
        # Counts a click against its owner's limit (raises RateLimited): a click costs StackOne two or three calls,
        # and the route has no login to limit, so a link opened in a loop must not spend the API key's budget.
        self._spend = spend

    def send(self, owner: Owner, request: SessionRequest, *, live: bool = False) -> SentLink:
        """Decide now within the caps and make the link (from StackOne's own list of accounts when `live`, as the
        operator's command asks); a refusal raises and nothing is made."""
        def make(decision: Decision) -> SentLink:
            pinned = replace(request, account_id=decision.account_id) if decision.action is Action.UPDATE else request
            for _ in range(DRAWS):
                now = self._clock()
                link, secret = new_link(owner, pinned, now)
                if self._store.create(link, now):
                    return SentLink(link, f"{self._base_url}{PATH}{secret}", decision)
            raise StateUnavailable("The link could not be stored; try again")

        return self._sessions.minter.place_link(owner, request, make, deadline=deadline.current(), live=live)

    def listing(self, owner: Owner, *, limit: int = PAGE, offset: int = 0) -> list[dict[str, Any]]:
        """A page of the owner's links, newest first, as the list route answers them."""
        now = self._clock()
        return [link_json(link, now) for link in self._store.owner_links(owner.id, now, limit=limit, offset=offset)]

    def withdraw(self, owner: Owner, handle: str) -> Link:
        """Withdraw the owner's live link (again: the same answer); 404 for an unknown or another owner's, 409 for a
        link that was completed or has expired."""
        if not is_handle(handle):
            raise LinkNotFound()
        now = self._clock()
        change = self._store.withdraw(owner.id, handle, now)
        if change.link is None:
            raise LinkNotFound()
        status = change.link.status(now)
        if not change.applied and status != WITHDRAWN:
            raise LinkEnded(f"This link has {'been used' if status == 'completed' else 'expired'}: there is nothing "
                            "to withdraw", linkStatus=status)
        return change.link

    def click(self, secret: str) -> tuple[Link, IssuedSession]:
        """Record a click on a live link, then decide and mint the click's own session within the caps.

        LinkNotFound for an unknown secret, LinkEnded (its `linkStatus` says why) for a link no longer live, any
        refusal as a mint's."""
        if not is_secret(secret):
            raise LinkNotFound()  # not even the shape of one: no digest, no store read
        digest = secret_digest(secret)
        now = self._clock()
        found = self._store.by_secret(digest, now)
        if found is None:
            raise LinkNotFound()
        if not found.live(now):
            raise LinkEnded(linkStatus=found.status(now))
        if self._spend is not None:
            self._spend(found.owner_id)  # before the click is recorded: a refused one is no click
        change = self._store.click(digest, now)
        if change.link is None:
            raise LinkNotFound()
        link = change.link
        if not change.applied:
            raise LinkEnded(linkStatus=link.status(now))
        owner = Owner(link.owner_id, link.owner_name, link.created_by)
        issued = self._sessions.open_session(owner, link.session_request(self._click_lifetime), live=True,
                                             for_link=link.handle)
        # Withdrawn while this click was being minted: the withdrawal's 204 promised the link opens no more.
        latest = self._store.by_secret(digest, self._clock())
        if latest is not None and latest.status(self._clock()) == WITHDRAWN:
            raise LinkEnded(linkStatus=WITHDRAWN)
        return link, issued

    def places(self, owner_id: str) -> list[Reservation]:
        """What the owner's live links hold under the caps now (the session path counts them beside its sessions)."""
        return link_places(self._store.live_links(owner_id, self._clock()))
