"""Auth Links followed to the end, as the customer's app sees it: a receiver verifying every delivery with the
`standardwebhooks` library gets `link.completed` once after StackOne's signed account.created for a clicked link
(delivered twice, retried, or with the state failing half-way), and `link.expiring` once, a day before an unused link
ends, on a fast clock; a completed link is never reminded of. Links are made and clicked through the store, StackOne's
account reads are played by `responses`."""

from __future__ import annotations

import base64
import json
import secrets
import time

import pytest

from app import create_app
from domain.times import iso_utc
from errors import StateUnavailable
from identity.owner import Owner
from links.model import new_link
from policy.types import SessionRequest
from tests.app_receiver import Receiver
from tests.helpers import API, account, stackone_signature

STACKONE_SECRET = "whsec_links_stackone_0123456789"
APP_SECRET = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
OWNER = Owner("org-links", "Links Inc", "admin@links.test")
DAY = 86400


@pytest.fixture
def receiver():
    server = Receiver(APP_SECRET)
    yield server
    server.shutdown()


@pytest.fixture(params=["sqlite", "redis"])
def app(request, env, receiver):
    """The service on one host's SQLite, or on a real redis-server as a fleet runs it."""
    if request.param == "redis":
        env = {**env, "REDIS_URL": request.getfixturevalue("redis_server").url}
    application = create_app({**env, "STACKONE_WEBHOOK_SECRETS": STACKONE_SECRET, "APP_WEBHOOK_URL": receiver.url,
                              "APP_WEBHOOK_SECRET": APP_SECRET, "RECONCILE_INTERVAL": "0"})
    yield application
    application.extensions["stackone_connect"].client.close()


def services(app):
    return app.extensions["stackone_connect"]


def sent_link(app, *, lifetime: int = 5 * DAY, user: str = "hr@links.test", now: float | None = None):
    """A link as POST /stackone_auth_links stores it, and its URL secret."""
    made, secret = new_link(OWNER, SessionRequest(expires_in=lifetime, origin_username=user, provider="hibob",
                                                  kind="link"), time.time() if now is None else now)
    assert services(app).link_store.create(made, made.created)
    return made, secret


def account_created(account_id: str, at: float, user: str = "hr@links.test", resent: int = 0) -> bytes:
    """StackOne's account.created as it signs it, sent now; `resent` seconds later for a retry (new bytes, the same
    event)."""
    return json.dumps({"project_id": "p1", "event": "account.created", "event_date": iso_utc(at),
                       "record_type": "account", "record_id": account_id, "account_id": account_id,
                       "sent_at": iso_utc(time.time() + resent), "provider": "hibob", "origin_owner_id": OWNER.id,
                       "origin_owner_name": OWNER.name, "origin_username": user}).encode()


def deliver(client, body: bytes):
    return client.post("/stackone_webhooks", data=body, headers={
        "Content-Type": "application/json", "x-stackone-signature": stackone_signature(STACKONE_SECRET, body)})


def tick(app, now: float | None = None) -> dict:
    """One background tick (claims and sends what is due at `now`; the sends are over when it returns)."""
    with app.app_context():
        return services(app).run_due(now)


def of(receiver: Receiver, kind: str) -> list[dict]:
    return [event for event in receiver.verified if event["type"] == kind]


def clicked_and_connected(app, stackone, account_id: str):
    """A link clicked a minute ago, and the account its click made (StackOne answers it when asked)."""
    made, secret = sent_link(app)
    assert services(app).link_store.click(made.digest, time.time() - 60).applied
    stackone.get(f"{API}/accounts/{account_id}", json=account(account_id, provider="hibob", owner=OWNER.id,
                                                              origin_username="hr@links.test"))
    return made


def test_a_clicked_link_is_completed_by_the_account_it_made_and_announced_once(app, receiver, stackone):
    made = clicked_and_connected(app, stackone, "acc-link-1")
    client = app.test_client()
    created_at = time.time() - 30
    body = account_created("acc-link-1", created_at)
    assert deliver(client, body).get_json() == {"status": "processed"}
    assert deliver(client, body).get_json() == {"status": "duplicate"}  # the same delivery again
    tick(app)
    assert len(of(receiver, "link.completed")) == 1
    # StackOne's retry once it was delivered (new bytes: a later sent_at), then every tick of the next hour.
    assert deliver(client, account_created("acc-link-1", created_at, resent=2)).get_json() == {"status": "processed"}
    tick(app)
    tick(app, time.time() + 3600)
    [event] = of(receiver, "link.completed")
    assert event["data"] == {"linkId": made.handle, "ownerId": OWNER.id, "accountId": "acc-link-1",
                             "provider": "hibob", "completedAt": iso_utc(created_at)}
    assert of(receiver, "connection.created")  # the account's own event too, on the same channel
    done = services(app).link_store.find(OWNER.id, made.handle, time.time())
    assert (done.status(time.time()), done.completed_account) == ("completed", "acc-link-1")
    assert not services(app).link_store.click(made.digest, time.time()).applied  # one link, one connection


def test_the_state_failing_between_the_completion_and_its_event_loses_nothing(app, receiver, stackone, monkeypatch):
    made = clicked_and_connected(app, stackone, "acc-link-2")
    ledger = services(app).connections.ledger
    queue_once = ledger.queue_once

    def failing(*args, **kwargs):
        monkeypatch.setattr(ledger, "queue_once", queue_once)  # fails once: StackOne's retry finds it back
        raise StateUnavailable("Redis failed moments ago")

    monkeypatch.setattr(ledger, "queue_once", failing)
    client = app.test_client()
    body = account_created("acc-link-2", time.time() - 30)
    assert deliver(client, body).status_code == 503  # unacknowledged: StackOne delivers it again
    assert services(app).link_store.find(OWNER.id, made.handle, time.time()).completed_account == "acc-link-2"
    tick(app)
    assert of(receiver, "link.completed") == []  # not queued yet
    assert deliver(client, body).get_json() == {"status": "processed"}
    tick(app)
    [event] = of(receiver, "link.completed")
    assert event["data"]["linkId"] == made.handle and event["data"]["accountId"] == "acc-link-2"


def test_an_unused_link_is_reminded_of_once_a_day_before_it_ends(app, receiver, monkeypatch):
    made, _ = sent_link(app, lifetime=3 * DAY)
    store = services(app).link_store
    assert tick(app, made.expiring_due_at - 1) == {"reminded": 0, "delivered": 0, "retry": 0, "failed": 0, "held": 0}
    assert of(receiver, "link.expiring") == []
    finish = store.finish_reminder

    def failing(reminder):
        monkeypatch.setattr(store, "finish_reminder", finish)  # fails once: the event is queued, the reminder kept
        raise StateUnavailable("Redis failed moments ago")

    monkeypatch.setattr(store, "finish_reminder", failing)
    with pytest.raises(StateUnavailable):
        tick(app, made.expiring_due_at + 1)
    assert tick(app, made.expiring_due_at + 2)["delivered"] == 1  # the queued event; the reminder is leased still
    # The lease lapses: the reminder is claimed again, queues nothing more, and is done with.
    assert "links_reminded" not in tick(app, made.expiring_due_at + 3600)
    assert store.claim_reminders(made.expiring_due_at + 7200, 60, 10) == []
    [event] = of(receiver, "link.expiring")
    assert event["data"] == {"linkId": made.handle, "ownerId": OWNER.id, "for": "hr@links.test",
                             "expiresAt": iso_utc(made.expires)}
    assert receiver.ids.count(receiver.ids[0]) == 1


def test_a_completed_link_is_not_reminded_of(app, receiver, stackone):
    made = clicked_and_connected(app, stackone, "acc-link-3")
    assert deliver(app.test_client(), account_created("acc-link-3", time.time() - 30)).status_code == 200
    counts = tick(app, made.expiring_due_at + 1)
    assert "links_reminded" not in counts and counts["delivered"] == 2  # connection.created and link.completed
    assert [e["type"] for e in receiver.verified if e["type"].startswith("link.")] == ["link.completed"]
