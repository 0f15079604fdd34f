"""An Auth Link of the customer's own: its record, its status by the clock, and the pure rules of its transitions.

A link is sent as `AUTH_LINK_BASE_URL` + its URL secret (`secrets.token_urlsafe(24)`, 192 random bits). The secret is
handed to the caller once, at creation, and never stored: the stores keep only its SHA-256 digest, which is how a
click finds the link. The link's *handle* (`lnk_` + 12 url-safe characters) is its public name for the owner's
listing and withdrawal; it opens nothing.

No StackOne token exists until someone clicks: the record keeps what the click needs to decide create / update /
multiple at that moment (provider, categories, label, account id, multiple, for whom), and the click mints a session
of its own, short-lived (the next layer's AUTH_LINK_CLICK_LIFETIME).

Its status, from the record and the clock, in this order:
- `completed`: an account was made (created or updated) through one of its clicks; it opens nothing any more;
- `withdrawn`: its owner withdrew it while it was live;
- `expired`: its lifetime (5 days by default, 7 at most) is over;
- `live`: none of these; only a live link may be clicked.

The transitions are pure (a new Link, or None when the rule refuses); the stores apply the same rules atomically and
tests/test_link_store.py holds them to MemoryLinkStore, which calls these functions:
- click: only while live; counts the click, keeps the first and the last;
- complete: once, for a link clicked at least once, whatever it became since (StackOne cannot revoke the click's
  session, so the account it made is what happened: the status says so);
- withdraw: the owner's, only while live;
- expire: no write at all: `status(now)` turns `expired` at `expires`.
A live link that was never completed gets one `link.expiring` reminder at `expiring_due_at` (a day before its end;
none for a link of a day or less), claimed from the stores' due index with a lease.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, replace
from typing import Any

from identity.owner import Owner
from policy.types import AUTH_LINK_EXPIRY, SessionRequest

LIVE, COMPLETED, WITHDRAWN, EXPIRED = "live", "completed", "withdrawn", "expired"
STATUSES = (LIVE, COMPLETED, WITHDRAWN, EXPIRED)
LONGEST_LIFETIME = AUTH_LINK_EXPIRY["max"]
REMIND_BEFORE = 24 * 3600  # link.expiring is due a day before the end
# A link's record is kept this long after it was made (its longest life, then 30 days to show how it ended), then
# dropped: found by nothing, listed nowhere. Counted from `created`, so one score per owner tells what has gone.
KEEP_AFTER_END = 30 * 24 * 3600
HORIZON = LONGEST_LIFETIME + KEEP_AFTER_END
HANDLE_PREFIX = "lnk_"
_HANDLE = re.compile(r"lnk_[A-Za-z0-9_-]{12}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{32}")


def secret_digest(secret: str) -> str:
    """The stored form of a URL secret: its SHA-256, hex (the secret itself is never stored)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def is_secret(text: str) -> bool:
    """True when `text` has the shape of a URL secret (a route refuses anything else before hashing it)."""
    return bool(_SECRET.fullmatch(text))


def is_handle(text: str) -> bool:
    """True when `text` has the shape of a link's handle."""
    return bool(_HANDLE.fullmatch(text))


@dataclass(frozen=True)
class Link:
    """One Auth Link as stored: who made it for whom, what a click decides from, and what happened to it."""

    handle: str
    digest: str  # SHA-256 of the URL secret
    owner_id: str
    owner_name: str
    origin_username: str | None  # for whom (StackOne records them as who connected)
    created_by: str | None  # by whom: the login's user
    provider: str | None
    categories: tuple[str, ...]
    label: str | None
    account_id: str | None  # an update link: the owner's account it re-links
    multiple: bool
    created: float
    expires: float
    first_click: float | None = None
    last_click: float | None = None
    clicks: int = 0
    completed_at: float | None = None
    completed_account: str | None = None  # the account made through it
    withdrawn_at: float | None = None

    def status(self, now: float) -> str:
        """live, completed, withdrawn or expired, at `now`."""
        if self.completed_at is not None:
            return COMPLETED
        if self.withdrawn_at is not None:
            return WITHDRAWN
        return EXPIRED if now >= self.expires else LIVE

    def live(self, now: float) -> bool:
        """True while a click may open it (and while it holds a cap's place)."""
        return self.status(now) == LIVE

    def click(self, now: float) -> Link | None:
        """The link after a click at `now`, or None: only a live link may be clicked."""
        if not self.live(now):
            return None
        return replace(self, clicks=self.clicks + 1, last_click=now,
                       first_click=self.first_click if self.first_click is not None else now)

    def complete(self, now: float, account_id: str) -> Link | None:
        """The link once `account_id` was made through one of its clicks, or None: once, and only after a click."""
        if self.completed_at is not None or not self.clicks:
            return None
        return replace(self, completed_at=now, completed_account=account_id)

    def withdraw(self, now: float) -> Link | None:
        """The link withdrawn by its owner at `now`, or None: only a live link can be withdrawn."""
        if not self.live(now):
            return None
        return replace(self, withdrawn_at=now)

    @property
    def expiring_due_at(self) -> float | None:
        """When link.expiring is due (a day before the end), or None for a link of a day or less."""
        due = self.expires - REMIND_BEFORE
        return due if due > self.created else None

    def visible(self, now: float) -> bool:
        """False once the record is past its keeping (HORIZON after it was made): then it is as if unknown."""
        return self.created > now - HORIZON  # spelled as the stores' indexes compare it

    def session_request(self, expires_in: int) -> SessionRequest:
        """What a click asks the session path for: this link's decision inputs, for a session of `expires_in`."""
        return SessionRequest(expires_in=expires_in, origin_username=self.origin_username, provider=self.provider,
                              categories=self.categories, label=self.label, account_id=self.account_id,
                              multiple=self.multiple, kind="link")

    def as_dict(self) -> dict[str, Any]:
        """JSON for a store (from_dict reads it back)."""
        return {name: (list(value) if name == "categories" else value)
                for name, value in self.__dict__.items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Link:
        """The link as as_dict wrote it."""
        return cls(**{**data, "categories": tuple(data.get("categories") or ())})


def new_link(owner: Owner, request: SessionRequest, now: float) -> tuple[Link, str]:
    """A fresh link for `owner` and its URL secret, shown once (the caller puts it in the URL and forgets it).

    The lifetime is the request's expires_in (schemas/ bound it to 7 days); whom it is for is the body's
    originUsername, else the login's user, as for a session."""
    if not 0 < request.expires_in <= LONGEST_LIFETIME:
        raise ValueError(f"a link lives at most {LONGEST_LIFETIME} seconds")
    secret = secrets.token_urlsafe(24)
    link = Link(handle=HANDLE_PREFIX + secrets.token_urlsafe(9), digest=secret_digest(secret), owner_id=owner.id,
                owner_name=owner.name, origin_username=request.origin_username or owner.username,
                created_by=owner.username, provider=request.provider, categories=tuple(request.categories),
                label=request.label, account_id=request.account_id, multiple=request.multiple, created=now,
                expires=now + request.expires_in)
    return link, secret
