"""Which Auth Link a StackOne account event completes (links/completion.py): the contract's rule, the ambiguous case
(the newest click wins), a retry finding the link it completed, and the owner's links read in pages."""

from __future__ import annotations

from dataclasses import replace

import pytest

from links.completion import CLICK_LONGEST, AccountEvent, completed_by, links_for
from links.model import Link, secret_digest
from links.store import MemoryLinkStore

T = 1_000_000.0  # the event's time
HOUR = 3600.0


def link(n: int, *, owner: str = "org-a", provider: str | None = "hibob", user: str | None = "hr@acme.test",
         account: str | None = None, clicks: tuple[float, ...] = (), created: float = T - 2 * 86400) -> Link:
    made = Link(handle=f"lnk_{n:012d}", digest=secret_digest(f"secret-{n}"), owner_id=owner, owner_name="Acme",
                origin_username=user, created_by="admin@acme.test", provider=provider, categories=(), label=None,
                account_id=account, multiple=False, created=created, expires=created + 5 * 86400)
    for at in clicks:
        made = made.click(at) or made
    return made


def created(account: str = "acc-new", *, owner: str = "org-a", provider: str | None = "hibob",
            user: str | None = "hr@acme.test", at: float = T) -> AccountEvent:
    return AccountEvent("account.created", owner, account, provider, user, at)


def updated(account: str, **fields) -> AccountEvent:
    return replace(created(account, **fields), kind="account.updated")


def test_account_created_completes_the_matching_link_clicked_before_it():
    mine = link(1, clicks=(T - HOUR,))
    others = [link(2, provider="bamboohr", clicks=(T - HOUR,)),          # another provider
              link(3, user="someone@else.test", clicks=(T - HOUR,)),     # for someone else
              link(4),                                                   # never clicked
              link(5, clicks=(T + 2 * HOUR,)),                           # clicked only after the account was made
              link(6, owner="org-b", clicks=(T - 60,)),                  # another owner's
              link(7, account="acc-old", clicks=(T - 60,))]              # an update link: it makes no account
    assert completed_by([*others, mine], created()) == mine
    assert completed_by(others, created()) is None


def test_a_link_without_provider_or_recipient_matches_any():
    loose = link(1, provider=None, user=None, clicks=(T - HOUR,))
    assert completed_by([loose], created(provider="HiBob", user="anyone@acme.test")) == loose


def test_two_links_of_one_person_clicked_at_once_the_newest_click_wins():
    # Ambiguous: both could have made the account; the rule (as the status route's) picks the most recent click.
    older, newer = link(1, clicks=(T - 600,)), link(2, clicks=(T - 300,))
    assert completed_by([newer, older], created()) == newer
    assert completed_by([older, newer], created()) == newer
    # Clicked again after the account was made: what counts is its last click known to be before the event.
    again = link(3, clicks=(T - 900, T + HOUR))
    assert completed_by([again, newer], created()) == newer


def test_a_click_whose_session_could_not_have_lived_until_the_event_completes_nothing():
    stale = link(1, clicks=(T - CLICK_LONGEST - 1,), created=T - 3 * 86400)
    assert completed_by([stale], created()) is None
    assert completed_by([link(2, clicks=(T + 30,))], created()) is not None  # our clock a little ahead of StackOne's


def test_a_link_withdrawn_after_its_click_is_still_what_made_the_account():
    clicked = link(1, clicks=(T - HOUR,))
    withdrawn = clicked.withdraw(T - 60)
    assert completed_by([withdrawn], created()) == withdrawn


def test_account_updated_completes_the_update_link_of_that_account_first():
    for_account = link(1, account="acc-7", clicks=(T - 600,))
    fresh = link(2, clicks=(T - 60,))  # a link with no account id: its click may have decided update
    assert completed_by([fresh, for_account], updated("acc-7")) == for_account
    assert completed_by([fresh, link(3, account="acc-8", clicks=(T - 60,))], updated("acc-7")) == fresh
    assert completed_by([link(3, account="acc-8", clicks=(T - 60,))], updated("acc-7")) is None


def test_a_retry_of_the_event_finds_the_link_it_completed_and_never_a_second_one():
    first, second = link(1, clicks=(T - 600,)), link(2, clicks=(T - 300,))
    done = second.complete(T, "acc-new")
    # Seen again: the same link, not the other one still open.
    assert completed_by([first, done], created()) == done
    # A later event of the same account is another completion, of a link still open.
    assert completed_by([first, done], updated("acc-new", at=T + 60)) == first


@pytest.mark.parametrize("kind", ["account.deleted", "connection.created"])
def test_other_events_complete_nothing(kind):
    assert completed_by([link(1, clicks=(T - 60,))], replace(created(), kind=kind)) is None


def test_the_owners_links_are_read_in_pages_back_to_the_oldest_that_could_be_completed():
    store = MemoryLinkStore()
    made = [link(n, created=T - 8 * 86400 + n * 1000) for n in range(230)]
    for one in made:
        assert store.create(one, T)
    store.create(link(999, owner="org-b"), T)
    store.create(link(998, created=T - 9 * 86400), T)  # over before a click of use to the event could be made
    found = links_for(store, created(), T)
    assert {one.handle for one in found} == {one.handle for one in made}  # more than two pages, no other owner's
