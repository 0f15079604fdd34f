"""sessions/links.py without Flask or HTTP: a link made, clicked, withdrawn and counted, over MemoryLinkStore and a
session path that records what it is asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from errors import AccountLimitReached, LinkEnded, LinkNotFound, RateLimited
from identity.owner import Owner
from links.model import secret_digest
from links.store import MemoryLinkStore
from policy import Action, Decision, SessionRequest
from sessions.links import LinkService, link_places
from sessions.mint import IssuedSession
from tests.sqlite_state_kit import Clock

OWNER = Owner("org-1", "Acme Inc", "ann@acme.test")
DAY = 86400.0


@dataclass
class FakeMinter:
    """Decides as it is told, or refuses like a full cap."""

    decision: Decision = Decision(Action.CREATE, "hibob")
    full: bool = False

    def place_link(self, owner, request, make, *, deadline=None, live=False):
        if self.full:
            raise AccountLimitReached("full")
        return make(self.decision)


@dataclass
class FakeSessions:
    """The session path: records each open_session and answers a session on StackOne's hub."""

    minter: FakeMinter = field(default_factory=FakeMinter)
    opened: list = field(default_factory=list)

    def open_session(self, owner, request, **kwargs):
        self.opened.append((owner, request, kwargs))
        return IssuedSession(Decision(Action.CREATE, request.provider), "tok", "https://hub.test/?token=tok",
                             request.expires_in, datetime.fromtimestamp(0, UTC))


@pytest.fixture
def world():
    store, sessions, clock = MemoryLinkStore(), FakeSessions(), Clock()
    clock.now = 1000.0
    service = LinkService(store=store, sessions=sessions, base_url="https://connect.example.com/",
                          click_lifetime=900, clock=clock)
    return service, store, sessions, clock


def ask(**fields) -> SessionRequest:
    return SessionRequest(expires_in=int(5 * DAY), provider="hibob", **fields)


def test_a_sent_link_is_on_our_origin_and_only_its_digest_is_kept(world):
    service, store, _, _ = world
    sent = service.send(OWNER, ask(origin_username="hr@globex.test"))
    secret = sent.url.removeprefix("https://connect.example.com/l/")
    assert len(secret) * 6 >= 128 and "/" not in secret
    assert list(store.links) == [secret_digest(secret)]
    assert secret not in repr(store.links) and secret not in str(sent.audit_fields())
    assert sent.as_json() | {"url": "", "expiresAt": ""} == {
        "url": "", "id": sent.link.handle, "action": "create", "provider": "hibob", "expiresIn": 432000,
        "expiresAt": "", "status": "live"}


def test_a_refusal_makes_no_link(world):
    service, store, sessions, _ = world
    sessions.minter.full = True
    with pytest.raises(AccountLimitReached):
        service.send(OWNER, ask())
    assert store.links == {}


def test_a_link_decided_as_an_update_is_pinned_to_that_account_and_holds_no_place(world):
    service, store, sessions, clock = world
    sessions.minter.decision = Decision(Action.UPDATE, "hibob", "acc-5")
    sent = service.send(OWNER, ask())
    assert (sent.link.account_id, sent.as_json()["accountId"]) == ("acc-5", "acc-5")
    sessions.minter.decision = Decision(Action.CREATE, "hibob")
    fresh = service.send(OWNER, ask())
    assert [place.link for place in service.places("org-1")] == [fresh.link.handle]


def test_a_click_mints_the_links_own_short_session_for_its_owner_and_recipient(world):
    service, store, sessions, clock = world
    sent = service.send(OWNER, ask(origin_username="hr@globex.test", label="EU"))
    clock.now += 60
    link, issued = service.click(sent.url.rsplit("/", 1)[1])
    [(owner, request, kwargs)] = sessions.opened
    assert owner == Owner("org-1", "Acme Inc", "ann@acme.test")
    assert (request.expires_in, request.origin_username, request.label, request.kind) == (900, "hr@globex.test",
                                                                                           "EU", "link")
    assert kwargs == {"live": True, "for_link": sent.link.handle}
    assert (link.clicks, link.first_click, issued.link) == (1, 1060.0, "https://hub.test/?token=tok")


@pytest.mark.parametrize("secret", ["", "short", "A" * 32, "A" * 31 + "!", "../" * 11])
def test_an_unknown_or_malformed_secret_is_not_found_and_mints_nothing(world, secret):
    service, _, sessions, _ = world
    with pytest.raises(LinkNotFound):
        service.click(secret)
    assert sessions.opened == []


def test_withdrawn_expired_and_completed_links_end_with_their_status(world):
    service, store, sessions, clock = world
    withdrawn, expired, completed = (service.send(OWNER, ask()) for _ in range(3))
    service.withdraw(OWNER, withdrawn.link.handle)
    service.click(completed.url.rsplit("/", 1)[1])
    store.complete("org-1", completed.link.handle, "acc-9", clock.now)
    clock.now += 5 * DAY
    for sent, status in ((withdrawn, "withdrawn"), (expired, "expired"), (completed, "completed")):
        with pytest.raises(LinkEnded) as ended:
            service.click(sent.url.rsplit("/", 1)[1])
        assert ended.value.extra == {"linkStatus": status}
    assert len(sessions.opened) == 1  # the completed link's one click before it ended
    assert service.places("org-1") == []  # ended links hold no place


def test_withdrawal_is_the_owners_again_and_again_and_refused_once_ended(world):
    service, store, _, clock = world
    sent = service.send(OWNER, ask())
    with pytest.raises(LinkNotFound):
        service.withdraw(Owner("org-2", "Other"), sent.link.handle)
    with pytest.raises(LinkNotFound):
        service.withdraw(OWNER, "not-a-handle")
    assert service.withdraw(OWNER, sent.link.handle).withdrawn_at == 1000.0
    assert service.withdraw(OWNER, sent.link.handle).withdrawn_at == 1000.0
    late = service.send(OWNER, ask())
    clock.now += 6 * DAY
    with pytest.raises(LinkEnded) as ended:
        service.withdraw(OWNER, late.link.handle)
    assert ended.value.status == 409 and ended.value.extra == {"linkStatus": "expired"}


def test_the_listing_is_the_owners_newest_first_with_nulls_for_the_unknown(world):
    service, _, _, clock = world
    first = service.send(OWNER, ask())
    clock.now += 1
    second = service.send(OWNER, ask(origin_username="hr@globex.test"))
    service.send(Owner("org-2", "Other"), ask())
    listed = service.listing(OWNER)
    assert [link["id"] for link in listed] == [second.link.handle, first.link.handle]
    assert (listed[0]["for"], listed[0]["by"], listed[0]["firstClickAt"], listed[0]["accountId"]) == (
        "hr@globex.test", "ann@acme.test", None, None)


def test_link_places_name_the_link_and_its_end():
    store, now = MemoryLinkStore(), 1000.0
    service = LinkService(store=store, sessions=FakeSessions(), base_url="https://c.example.com", click_lifetime=60,
                          clock=lambda: now)
    sent = service.send(OWNER, ask(origin_username="hr@globex.test"))
    [place] = link_places([sent.link])
    assert (place.kind, place.link, place.provider, place.holder, place.until) == (
        "link", sent.link.handle, "hibob", "hr@globex.test", now + 5 * DAY)
    assert place.as_json()["linkId"] == sent.link.handle


def test_a_link_opened_past_its_owners_limit_mints_nothing_and_records_no_click(world):
    _, store, sessions, clock = world
    spent: list[str] = []

    def spend(owner_id: str) -> None:
        spent.append(owner_id)
        if len(spent) > 2:
            raise RateLimited("opened too often", headers={"Retry-After": "30"})

    service = LinkService(store=store, sessions=sessions, base_url="https://connect.example.com/",
                          click_lifetime=900, clock=clock, spend=spend)
    secret = service.send(OWNER, ask()).url.rsplit("/", 1)[1]
    service.click(secret)
    service.click(secret)
    with pytest.raises(RateLimited):
        service.click(secret)
    assert spent == ["org-1"] * 3 and len(sessions.opened) == 2
    assert store.by_secret(secret_digest(secret), clock()).clicks == 2


def test_a_link_withdrawn_while_its_click_was_minted_does_not_open(world):
    service, store, sessions, clock = world
    sent = service.send(OWNER, ask())
    secret = sent.url.rsplit("/", 1)[1]
    mint = sessions.open_session

    def withdrawn_meanwhile(owner, request, **kwargs):
        issued = mint(owner, request, **kwargs)
        service.withdraw(OWNER, sent.link.handle)  # the owner's 204 comes back while this click is minted
        return issued

    sessions.open_session = withdrawn_meanwhile
    with pytest.raises(LinkEnded) as ended:
        service.click(secret)
    assert ended.value.extra["linkStatus"] == "withdrawn"
