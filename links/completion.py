"""Which Auth Link a StackOne account event completes: the links contract's rule, pure (no store, no Flask).

StackOne's account.created / account.updated carry no session token, so the link is found from what they do carry:
- account.created of owner X, provider P, user U at time T: among X's links clicked before T whose provider is P or
  unset, whose origin_username is U or unset and that name no account (an update link makes no new account), the
  most recently clicked;
- account.updated of account A at T: X's link with account id A clicked before T; failing that, one with no account id
  matched as for account.created (its click found the owner's account for P and decided update: StackOne then
  updates that account rather than make one).
"Clicked before T" allows CLOCK_LEEWAY (our clock stamps the click, StackOne's the event), and the click must be
recent enough for its session to have lived until T (CLICK_LONGEST, the longest AUTH_LINK_CLICK_LIFETIME). A link
that is live at the click is a candidate whatever it became since (withdrawn, expired): StackOne cannot revoke the
click's session, so the account it made is what happened, as links.model's complete says.

Two links of one person for one provider clicked at once cannot be told apart: the most recent click wins (ties: the
digest), as the status route decides. An event seen again (StackOne retries) finds the link it completed the first
time (completed by that account at that time), never a second one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.accounts import ACCOUNT_CREATED, ACCOUNT_UPDATED
from links.model import LONGEST_LIFETIME, Link
from links.store import LONGEST_PAGE, LinkStore

CLOCK_LEEWAY = 60.0  # seconds a click stamped by our clock may seem to follow the event StackOne stamped
CLICK_LONGEST = 86400.0  # the longest a click's session lives (AUTH_LINK_CLICK_LIFETIME's bound)


@dataclass(frozen=True)
class AccountEvent:
    """What an account.created / account.updated says, as completion reads it."""

    kind: str
    owner_id: str
    account_id: str
    provider: str | None
    origin_username: str | None
    at: float  # the event's time (StackOne's event_date), epoch seconds


def completed_by(links: Iterable[Link], event: AccountEvent) -> Link | None:
    """The owner's link this event completes (or completed already, when seen again), or None."""
    links = [link for link in links if link.owner_id == event.owner_id]
    for link in links:
        if link.completed_account == event.account_id and link.completed_at == event.at:
            return link  # completed by this very event: a retry finds the same link
    clicked = [link for link in links if link.completed_at is None and _clicked_for(link, event.at)]
    fresh = [link for link in clicked if link.account_id is None and _matches(link, event)]
    if event.kind == ACCOUNT_CREATED:
        return _newest_click(fresh, event.at)
    if event.kind == ACCOUNT_UPDATED:
        # Else a click that decided "update" on an account of the link's own provider (a link of any provider may
        # reconnect any account of its owner's: too loose to complete on).
        named = [link for link in fresh if link.provider is not None]
        return (_newest_click([link for link in clicked if link.account_id == event.account_id], event.at)
                or _newest_click(named, event.at))
    return None


def _clicked_for(link: Link, at: float) -> bool:
    # A click before `at` whose session may have lived until then.
    last = _last_click_by(link, at)
    return last is not None and at - last <= CLICK_LONGEST


def _last_click_by(link: Link, at: float) -> float | None:
    # The latest click known to be before `at`: the last one, or (clicked again since) at least the first.
    for click in (link.last_click, link.first_click):
        if click is not None and click <= at + CLOCK_LEEWAY:
            return click
    return None


def _matches(link: Link, event: AccountEvent) -> bool:
    provider_ok = link.provider is None or (event.provider or "").casefold() == link.provider.casefold()
    user_ok = link.origin_username is None or link.origin_username == event.origin_username
    return provider_ok and user_ok


def _newest_click(links: list[Link], at: float) -> Link | None:
    return max(links, key=lambda link: (_last_click_by(link, at), link.digest), default=None)


def links_for(store: LinkStore, event: AccountEvent, now: float) -> list[Link]:
    """The owner's links an event may complete: every one made since its longest life before the event (a page at a
    time, newest first; completed ones too, so that a retry finds the one it completed)."""
    since = event.at - CLICK_LONGEST - LONGEST_LIFETIME  # made before that, it was over before any click of use
    found: list[Link] = []
    while True:
        page = store.owner_links(event.owner_id, now, limit=LONGEST_PAGE, offset=len(found))
        found += page
        if len(page) < LONGEST_PAGE or page[-1].created < since:
            return [link for link in found if link.created >= since]
