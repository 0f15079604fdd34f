"""Auth Links of our own over HTTP (gunicorn and the sandbox as real processes, AUTH_LINK_BASE_URL set): made on our
origin, minted when clicked, withdrawn at will, owner-scoped, holding a cap's place only while live, never logged."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.e2e_processes import free_port, gunicorn_stack
from tests.helpers import login

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.links_key_0123456789"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """gunicorn (2 workers) and the sandbox, links of ours on gunicorn's own origin, one account per owner at most."""
    port = free_port()
    with gunicorn_stack(tmp_path_factory.mktemp("links"), key=KEY, port=port, ACCOUNT_LIMITS="total=1",
                        AUTH_LINK_BASE_URL=f"http://127.0.0.1:{port}", AUTH_LINK_CLICK_LIFETIME="900") as stack:
        yield stack


class Sender:
    """One organisation's user, calling the service with their login."""

    def __init__(self, url: str, org: str) -> None:
        self.url = url
        self.headers = {"Authorization": f"Bearer {login(org_id=org, org_name=f'{org.title()} Ltd')}"}

    def send(self, **body) -> requests.Response:
        return requests.post(f"{self.url}/stackone_auth_links", json=body, headers=self.headers, timeout=10)

    def connect(self, **body) -> requests.Response:
        return requests.post(f"{self.url}/stackone_connect_sessions", json=body, headers=self.headers, timeout=10)

    def links(self) -> list[dict]:
        answer = requests.get(f"{self.url}/stackone_auth_links", headers=self.headers, timeout=10)
        assert answer.status_code == 200, answer.text
        return answer.json()["links"]

    def withdraw(self, link_id: str) -> requests.Response:
        return requests.delete(f"{self.url}/stackone_auth_links/{link_id}", headers=self.headers, timeout=10)


def click(url: str) -> requests.Response:
    """What the recipient's browser does first: open the link (no login), the redirect not yet followed."""
    return requests.get(url, allow_redirects=False, timeout=10)


def test_a_link_is_on_our_origin_and_opens_the_hub_only_when_clicked(stack):
    sender = Sender(stack.url, "org-sent")
    calls_before = requests.get(f"{stack.sandbox_url}/sandbox/calls", timeout=5).json()
    sent = sender.send(provider="hibob")
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert (body["action"], body["status"], body["expiresIn"]) == ("create", "live", 432000) and "token" not in body
    assert body["url"].startswith(f"{stack.url}/l/")
    secret = body["url"].rsplit("/", 1)[1]
    assert len(secret) * 6 >= 128  # base64url: six bits a character
    minted = [c for c in requests.get(f"{stack.sandbox_url}/sandbox/calls", timeout=5).json()[len(calls_before):]
              if "connect_sessions" in c]
    assert minted == []  # no StackOne session exists until someone clicks

    opened = click(body["url"])
    assert opened.status_code == 302
    assert (opened.headers["Cache-Control"], opened.headers["Referrer-Policy"]) == ("no-store", "no-referrer")
    hub = opened.headers["Location"]
    assert hub.startswith(stack.sandbox_url)
    hub_page = requests.get(hub, timeout=5)
    assert hub_page.status_code == 200 and "Org-Sent Ltd" in hub_page.text

    [listed] = sender.links()
    assert (listed["id"], listed["status"], listed["clicks"], listed["provider"]) == (body["id"], "live", 1, "hibob")
    assert listed["firstClickAt"] and listed["firstClickAt"] == listed["lastClickAt"]
    assert (listed["for"], listed["by"]) == ("ann@acme.test", "ann@acme.test")


def test_a_withdrawn_link_opens_a_410_page_that_names_no_one(stack):
    sender = Sender(stack.url, "org-withdraw")
    body = sender.send(provider="bamboohr").json()
    assert sender.withdraw(body["id"]).status_code == 204
    assert sender.withdraw(body["id"]).status_code == 204  # again: the same answer
    gone = click(body["url"])
    assert gone.status_code == 410 and gone.headers["Content-Type"].startswith("text/html")
    assert (gone.headers["Cache-Control"], gone.headers["Referrer-Policy"]) == ("no-store", "no-referrer")
    assert "withdrawn" in gone.text and "ask" in gone.text.lower()
    assert "Org-Withdraw" not in gone.text and "org-withdraw" not in gone.text
    assert [link["status"] for link in sender.links()] == ["withdrawn"]

    unknown = click(f"{stack.url}/l/{'A' * 32}")
    assert unknown.status_code == 404 and "does not work" in unknown.text


def test_another_organisation_neither_sees_nor_withdraws_a_link(stack):
    mine, theirs = Sender(stack.url, "org-mine"), Sender(stack.url, "org-theirs")
    body = mine.send(provider="hibob").json()
    assert theirs.links() == []
    refused = theirs.withdraw(body["id"])
    assert (refused.status_code, refused.json()["code"]) == (404, "link_not_found")
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert [link["status"] for link in mine.links()] == ["live"]
    assert click(body["url"]).status_code == 302


def test_a_live_link_holds_the_one_place_and_a_withdrawal_frees_it_at_once(stack):
    sender = Sender(stack.url, "org-caps")
    link = sender.send(provider="bamboohr").json()
    refused = sender.connect(provider="hibob")
    assert (refused.status_code, refused.json()["code"]) == (409, "account_limit")
    assert [(p["kind"], p.get("linkId")) for p in refused.json()["pending"]] == [("link", link["id"])]
    assert "withdraw a link" in refused.json()["detail"]
    assert sender.send(provider="hibob").json()["code"] == "account_limit"  # a second link too

    # Its own click is not refused by the place the link holds, and holds no second place.
    assert click(link["url"]).status_code == 302
    again = sender.connect(provider="hibob")
    assert (again.status_code, again.json()["pendingSessions"]) == (409, 1)

    assert sender.withdraw(link["id"]).status_code == 204
    freed = sender.connect(provider="hibob")
    assert freed.status_code == 200, freed.text


def test_a_click_refused_now_is_a_page_that_says_to_ask_the_sender(stack):
    sender = Sender(stack.url, "seed-org-1")  # the owner the sandbox's seeding control gives an account to
    link = sender.send(provider="bamboohr").json()
    seeded = requests.post(f"{stack.sandbox_url}/sandbox/accounts", json={"count": 1, "owners": 1}, timeout=10)
    assert seeded.status_code == 201  # an account made meanwhile by another way: the one place is taken
    full = click(link["url"])
    assert full.status_code == 409 and full.headers["Content-Type"].startswith("text/html")
    assert "whoever sent you this link" in full.text and "Seed-Org-1" not in full.text
    assert full.headers["Cache-Control"] == "no-store"


def test_a_click_while_stackone_fails_is_a_page_that_says_to_try_again(stack):
    sender = Sender(stack.url, "org-down")
    link = sender.send(provider="hibob").json()
    armed = requests.post(f"{stack.sandbox_url}/sandbox/faults", timeout=5,
                          json={"status": 500, "method": "POST", "path": "/connect_sessions", "times": 1})
    assert armed.status_code == 201
    down = click(link["url"])
    assert down.status_code == 502 and "Try again in a few minutes" in down.text
    assert click(link["url"]).status_code == 302  # the link itself is untouched: the next click works


def test_no_log_line_holds_a_links_secret_or_a_clicks_token(stack):
    sender = Sender(stack.url, "org-logs")
    body = sender.send(provider="hibob").json()
    secret = body["url"].rsplit("/", 1)[1]
    opened = click(body["url"])
    token = parse_qs(urlsplit(opened.headers["Location"]).query)["token"][0]
    requests.post(f"{stack.url}/l/{secret}", timeout=5)  # a wrong method: a problem, which must not echo it
    assert sender.withdraw(body["id"]).status_code == 204
    assert click(body["url"]).status_code == 410
    text = stack.log.read_text()
    access = [json.loads(line) for line in text.splitlines() if '"logger":"access"' in line]
    assert [line["status"] for line in access if line.get("route") == "/l/<secret>"][-2:] == [302, 410]
    audits = [json.loads(line) for line in text.splitlines() if '"logger":"audit"' in line]
    assert {"auth_link_sent", "auth_link_clicked", "auth_link_withdrawn"} <= {line["audit"] for line in audits}
    assert secret not in text and token not in text
