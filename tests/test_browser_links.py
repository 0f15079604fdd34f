"""Auth Links of the customer's own in headless Chromium: sent from the kit's *Send a link* (AUTH_LINK_BASE_URL = the
service's own loopback URL), opened by a recipient in a browser of their own, withdrawn from the kit's *Sent links*,
expired, completed, and clicked twice; StackOne is the sandbox, its hub page the one a link leads to."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.browser_kit import sign_in, watched_page
from tests.test_browser import deployment, sandbox_accounts

pytestmark = pytest.mark.e2e
CLICK_LIFETIME = 600  # a click's session: ten minutes, where the link lives five days
USER = "admin@acme.test"  # whom the example app signs in, and so whom a link is for


@pytest.fixture(scope="module")
def links_site(tmp_path_factory):
    """One cookie-mode deployment whose links are the service's own; each test below uses a provider of its own."""
    folder = tmp_path_factory.mktemp("links")
    with deployment(folder, "cookie", AUTH_LINK_BASE_URL="{service_url}",
                    AUTH_LINK_CLICK_LIFETIME=str(CLICK_LIFETIME)) as (page_url, service_url, sandbox_url):
        yield page_url, service_url, sandbox_url, folder


def send_link(page, provider_name: str) -> tuple[str, str]:
    """*Send a link for <provider>* on the kit: (the URL it shows, the link's id from the service's answer)."""
    with page.expect_response(lambda r: r.url.endswith("/stackone_auth_links") and r.request.method == "POST") as made:
        page.get_by_role("button", name=f"Send a link for {provider_name}").click()
    shown = page.get_by_label(f"Link for {provider_name}", exact=True)
    page.get_by_role("status").filter(has_text=f"A link to connect {provider_name} is ready").wait_for()
    return shown.input_value(), made.value.json()["id"]


def sent(page, link_id: str):
    """The link's row in the kit's *Sent links* list."""
    return page.get_by_role("list", name="Sent links").locator(f'li[data-link-id="{link_id}"]')


def hub_token(page) -> str:
    """The session token of the sandbox hub page a click led to."""
    return parse_qs(urlsplit(page.url).query)["token"][0]


def provider_accounts(sandbox_url: str, provider: str) -> list[dict]:
    return [a for a in sandbox_accounts(sandbox_url) if a["provider"] == provider]


def minted_sessions(sandbox_url: str, provider: str) -> list[dict]:
    """The bodies of the connect sessions the service asked the sandbox for, for this provider."""
    recorded = requests.get(f"{sandbox_url}/sandbox/requests", timeout=5).json()
    return [r["body"] for r in recorded if (r["method"], r["path"]) == ("POST", "/connect_sessions")
            and r["body"].get("provider") == provider]


def wait_for_status(page, service_url: str, link_id: str, status: str, seconds: float = 15) -> dict:
    """The link as the service lists it to the signed-in page, once it has this status (the webhook is on its way)."""
    deadline = time.monotonic() + seconds
    while True:
        listed = page.request.get(f"{service_url}/stackone_auth_links").json()["links"]
        link = next(item for item in listed if item["id"] == link_id)
        if link["status"] == status or time.monotonic() > deadline:
            assert link["status"] == status, link
            return link
        page.wait_for_timeout(200)


def refused(browser, url: str) -> tuple[int, str]:
    """A recipient opens the link in a browser of their own: the status and the text of the page they see."""
    with watched_page(browser) as (recipient, _):
        answer = recipient.goto(url)
        return answer.status, recipient.locator("body").inner_text()


def test_a_link_sent_from_the_kit_reaches_the_hub_and_connects(browser, links_site):
    page_url, service_url, sandbox_url, _ = links_site
    with watched_page(browser) as (page, errors):
        sign_in(page, page_url)
        url, link_id = send_link(page, "HiBob")
        assert url.startswith(f"{service_url}/l/")  # the organisation's own link, not StackOne's
        row = sent(page, link_id)
        row.filter(has_text="Live").wait_for()
        assert f"HiBob link for {USER}" in row.inner_text() and "0 clicks" in row.inner_text()
        assert " by " not in row.inner_text() and "works until" in row.inner_text()  # for oneself: named once
        assert minted_sessions(sandbox_url, "hibob") == []  # no StackOne token until someone clicks
        with watched_page(browser) as (recipient, recipient_errors):  # the recipient: no login, only the link
            recipient.goto(url)
            assert recipient.url.startswith(f"{sandbox_url}/embedded/integrations?token=")
            recipient.get_by_role("button", name="Connect").click()
            recipient.get_by_role("heading", name="Connected").wait_for()
            assert recipient_errors == []
        assert len(provider_accounts(sandbox_url, "hibob")) == 1
        [session] = minted_sessions(sandbox_url, "hibob")
        assert (session["origin_owner_id"], session["expires_in"]) == ("acme", CLICK_LIFETIME)
        page.reload()
        assert "1 click" in sent(page, link_id).inner_text()
        assert errors == []


def test_a_link_withdrawn_from_the_kits_list_shows_the_410_page(browser, links_site):
    page_url, _, sandbox_url, _ = links_site
    with watched_page(browser) as (page, errors):
        sign_in(page, page_url)
        url, link_id = send_link(page, "Greenhouse")
        withdraw = sent(page, link_id).get_by_role("button", name=f"Withdraw the Greenhouse link for {USER}")
        withdraw.click()
        page.get_by_role("dialog", name=f"Withdraw the Greenhouse link for {USER}?").get_by_role(
            "button", name="Withdraw").click()
        page.get_by_role("status").filter(has_text=f"Withdrew the Greenhouse link for {USER}.").wait_for()
        row = sent(page, link_id)  # the list, read again
        assert "Withdrawn" in row.inner_text() and row.get_by_role("button").count() == 0
        assert row.evaluate("el => document.activeElement === el")  # the keyboard's place is kept
        assert errors == []
    status, text = refused(browser, url)
    assert status == 410 and "withdrawn" in text.lower()
    assert minted_sessions(sandbox_url, "greenhouse") == []  # nothing was minted for it, ever


def test_an_expired_link_shows_the_410_page_and_is_listed_as_expired(browser, links_site):
    from domain.times import iso_utc
    from identity.owner import Owner
    from links.model import new_link
    from links.store_sqlite import SqliteLinkStore
    from policy.types import SessionRequest

    page_url, service_url, sandbox_url, folder = links_site
    # A link made six days ago for five days, written where the service keeps its links (the clock moved, no sleep).
    six_days_ago = time.time() - 6 * 86400
    wanted = SessionRequest(expires_in=5 * 86400, provider="greenhouse", origin_username="hr@customer.test",
                            kind="link")
    link, secret = new_link(Owner("acme", "Acme Inc", USER), wanted, six_days_ago)
    assert SqliteLinkStore(str(folder / "gunicorn-state")).create(link, six_days_ago)
    status, text = refused(browser, f"{service_url}/l/{secret}")
    assert status == 410 and "expired" in text.lower()
    with watched_page(browser) as (page, errors):
        sign_in(page, page_url)
        row = sent(page, link.handle)
        assert "Expired" in row.inner_text() and row.get_by_role("button").count() == 0
        # Sent to someone else: the row names both, for whom and by whom.
        assert "Greenhouse link for hr@customer.test" in row.inner_text() and f"by {USER}" in row.inner_text()
        assert row.locator("time").nth(1).get_attribute("datetime") == iso_utc(link.expires)  # valid until when
        assert errors == []
    assert minted_sessions(sandbox_url, "greenhouse") == []


def test_a_completed_link_refuses_a_second_click(browser, links_site):
    """Completion comes from the sandbox's signed account.created webhook to the service (links-events)."""
    page_url, service_url, sandbox_url, _ = links_site
    with watched_page(browser) as (page, errors):
        sign_in(page, page_url)
        url, link_id = send_link(page, "Salesforce")
        with watched_page(browser) as (recipient, _):
            recipient.goto(url)
            recipient.get_by_role("button", name="Connect").click()
            recipient.get_by_role("heading", name="Connected").wait_for()
        [account] = provider_accounts(sandbox_url, "salesforce")
        done = wait_for_status(page, service_url, link_id, "completed")
        assert done["accountId"] == account["id"]
        page.reload()
        row = sent(page, link_id)
        assert "Completed" in row.inner_text() and row.get_by_role("button").count() == 0
        assert errors == []
    status, text = refused(browser, url)
    assert status == 410 and "used" in text.lower()
    assert len(minted_sessions(sandbox_url, "salesforce")) == 1  # the refused click minted nothing


def test_two_clicks_before_completion_get_two_sessions_and_make_one_account(browser, links_site):
    page_url, service_url, sandbox_url, _ = links_site
    with watched_page(browser) as (page, errors):
        sign_in(page, page_url)
        url, link_id = send_link(page, "BambooHR")
        with watched_page(browser) as (first, _), watched_page(browser) as (second, _):
            first.goto(url)  # opened, then left: the recipient clicks the link again from the mail
            second.goto(url)
            assert first.url.startswith(f"{sandbox_url}/embedded/integrations?token=")
            assert second.url.startswith(f"{sandbox_url}/embedded/integrations?token=")
            assert hub_token(first) != hub_token(second)
            second.get_by_role("button", name="Connect").click()
            second.get_by_role("heading", name="Connected").wait_for()
        sessions = minted_sessions(sandbox_url, "bamboohr")
        assert [s["expires_in"] for s in sessions] == [CLICK_LIFETIME, CLICK_LIFETIME]
        assert len(provider_accounts(sandbox_url, "bamboohr")) == 1
        page.reload()
        assert "2 clicks" in sent(page, link_id).inner_text()
        assert errors == []
