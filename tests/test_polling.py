"""A page polling its session over HTTP (gunicorn and the sandbox as real processes): the organisation is never
locked out, StackOne hears of a session about once in three polls, a webhook settles it, and snooping stays bounded.
"""

from __future__ import annotations

import secrets
import time

import pytest
import requests

from tests.e2e_processes import gunicorn_stack
from tests.helpers import login

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.polling_key_0123456789"
WEBHOOK_SECRET = "whsec_polling_0123456789abcdef"
STATUS_BUDGET = 12  # OWNER_STATUS_RATE_LIMIT below: the status polls of one owner that may reach StackOne a minute
WORKERS = 2  # without Redis each worker counts its own (docs/operating.md); the kept outcomes are in the database


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """The sandbox (delivering signed account webhooks) and gunicorn with a tight OWNER_RATE_LIMIT of 10/minute."""
    with gunicorn_stack(tmp_path_factory.mktemp("polling"), key=KEY, sandbox_webhook_secret=WEBHOOK_SECRET,
                        WEB_CONCURRENCY=str(WORKERS), STACKONE_WEBHOOK_SECRETS=WEBHOOK_SECRET,
                        OWNER_RATE_LIMIT="10/minute", OWNER_STATUS_RATE_LIMIT=f"{STATUS_BUDGET}/minute") as stack:
        yield stack.url, stack.sandbox_url


class Page:
    """One organisation's integrations page, calling the service as the kit does."""

    def __init__(self, service_url: str, org: str) -> None:
        self.url = service_url
        self.headers = {"Authorization": f"Bearer {login(org_id=org, org_name=org.title())}"}

    def load(self) -> list[int]:
        """What the page asks when it loads: the providers and the accounts."""
        return [requests.get(f"{self.url}{path}", headers=self.headers, timeout=10).status_code
                for path in ("/stackone_providers", "/stackone_accounts")]

    def mint(self, provider: str) -> requests.Response:
        return requests.post(f"{self.url}/stackone_connect_sessions", json={"provider": provider},
                             headers=self.headers, timeout=10)

    def poll(self, token: str) -> requests.Response:
        return requests.post(f"{self.url}/stackone_connect_sessions/status", json={"token": token},
                             headers=self.headers, timeout=10)


def recorded(sandbox_url: str) -> list[dict]:
    """Every API request StackOne (the sandbox) received so far."""
    return requests.get(f"{sandbox_url}/sandbox/requests", timeout=5).json()


def authenticates(requests_seen: list[dict]) -> int:
    return sum(r["path"] == "/connect_sessions/authenticate" for r in requests_seen)


def test_a_page_polling_an_open_hub_never_locks_out_its_organisation(stack):
    service_url, sandbox_url = stack
    page = Page(service_url, "org-page")
    assert page.load() == [200, 200]
    minted = page.mint("bamboohr")
    assert minted.status_code == 200
    before = len(recorded(sandbox_url))

    answers = []
    for n in range(20):  # the hub left open for 40 s: the kit polls every 2 s
        if n:
            time.sleep(2)
        answers.append(page.poll(minted.json()["token"]))
    assert [(a.status_code, a.json()["status"]) for a in answers] == [(200, "pending")] * 20

    asked = recorded(sandbox_url)[before:]
    # StackOne heard of the session about once in three polls (each time: the session, then the owner's accounts,
    # since it reports no attempt yet), instead of twice every poll.
    assert 1 <= authenticates(asked) <= 7 and len(asked) <= 2 * authenticates(asked)
    # The organisation can still do everything else: the 20 polls spent none of its OWNER_RATE_LIMIT of 10/minute.
    assert page.load() == [200, 200]
    assert page.mint("hibob").status_code == 200


def test_an_account_created_webhook_settles_a_pending_session_without_asking_stackone(stack):
    service_url, sandbox_url = stack
    page = Page(service_url, "org-hook")
    token = page.mint("greenhouse").json()["token"]
    assert page.poll(token).json()["status"] == "pending"  # kept for a few seconds from here
    done = requests.post(f"{sandbox_url}/sandbox/complete", json={"token": token}, timeout=10).json()
    assert done["event"] == "account.created"  # and the sandbox has delivered it, signed, to the service
    before = len(recorded(sandbox_url))

    answer = page.poll(token)
    assert answer.status_code == 200
    assert (answer.json()["status"], answer.json()["accountId"]) == ("authenticated", done["account"]["id"])
    assert recorded(sandbox_url)[before:] == []


def test_polls_of_another_owners_token_or_of_made_up_tokens_stay_bounded(stack):
    service_url, sandbox_url = stack
    owner = Page(service_url, "org-victim")
    token = owner.mint("hibob").json()["token"]
    assert owner.poll(token).json()["status"] == "pending"

    snoop = Page(service_url, "org-snoop")
    before = len(recorded(sandbox_url))
    theirs = [snoop.poll(token) for _ in range(20)]
    assert {(a.status_code, a.json()["code"]) for a in theirs} == {(404, "session_not_found")}
    assert recorded(sandbox_url)[before:] == []  # answered from what is kept of the session: nothing asked

    made_up = [snoop.poll("sess_" + secrets.token_hex(16)) for _ in range(WORKERS * STATUS_BUDGET + 3)]
    answered = [a for a in made_up if a.status_code == 404]
    refused = [a for a in made_up if a.status_code == 429]
    assert STATUS_BUDGET <= len(answered) <= WORKERS * STATUS_BUDGET and len(answered) + len(refused) == len(made_up)
    assert all(r.json()["code"] == "rate_limited" and 1 <= int(r.headers["Retry-After"]) <= 60 for r in refused)
    assert authenticates(recorded(sandbox_url)[before:]) == len(answered)  # each made-up token cost one, until refused
    # Its own page still loads and mints: the polls' budget is not the organisation's.
    assert snoop.load() == [200, 200] and snoop.mint("bamboohr").status_code == 200
