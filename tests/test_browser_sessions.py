"""The kit opening sessions in headless Chromium: one hub for a double click, a Test badge, "Add another" for a
provider already connected, and the polling schedule (pollDelay) as the page runs it."""

from __future__ import annotations

import pytest
import requests

from tests.browser_kit import accounts, finish_in_hub, sign_in, watched_page
from tests.test_browser import KEY, deployment, sandbox_accounts

pytestmark = pytest.mark.e2e


def minted_by_the_service(log) -> int:
    """Connect sessions the service answered, from its access lines."""
    return log.read_text().count('"message":"POST /stackone_connect_sessions 200"')


def test_a_double_click_on_connect_mints_once_and_opens_one_hub(browser, tmp_path):
    with deployment(tmp_path, "cookie") as (page_url, _, _), watched_page(browser) as (page, errors):
        sign_in(page, page_url)
        sent = []
        page.on("request", lambda r: sent.append((r.method, r.url.split("?")[0].rsplit("/", 2)[-2:])))
        page.get_by_role("button", name="Connect HiBob", exact=True).dblclick()
        hub = page.get_by_role("dialog", name="Connect an account")
        hub.get_by_label("Subdomain").wait_for()  # the hub has loaded: a second one would have too
        assert hub.count() == 1 and minted_by_the_service(tmp_path / "gunicorn.log") == 1
        # Every button that opens a session says it is busy while this one is open.
        for name in ("Connect HiBob", "Connect BambooHR", "Send a link for HiBob"):
            assert page.get_by_role("button", name=name, exact=True).is_disabled()
        # Closed without connecting: the page re-enables its buttons and tells the service once that the session
        # will not be used (the release route may not exist on this service: the page ignores its answer).
        hub.get_by_role("button", name="Close").click()
        hub.wait_for(state="detached")
        connect = page.get_by_role("button", name="Connect HiBob", exact=True)
        connect.wait_for()
        page.wait_for_function("() => [...document.querySelectorAll('button[data-opens-session]')]"
                               ".every((b) => !b.disabled)")
        assert sent.count(("POST", ["stackone_connect_sessions", "release"])) == 1
        # Until this service has the release route, the browser itself logs its 404 (or the preflight's): the page
        # logs nothing of its own.
        assert [e for e in errors if not ("release" in e or "404" in e or e.endswith("net::ERR_FAILED"))] == []


def test_a_test_account_is_marked_and_a_connected_provider_offers_add_another(browser, tmp_path):
    with deployment(tmp_path, "bearer") as (page_url, _, sandbox_url), watched_page(browser) as (page, errors):
        # A test session (another deployment of the same project with STACKONE_SESSION_TYPE=test) made an account.
        session = requests.post(f"{sandbox_url}/connect_sessions", auth=(KEY, ""), timeout=5, json={
            "origin_owner_id": "acme", "origin_owner_name": "Acme Inc", "provider": "hibob", "type": "test"}).json()
        requests.post(f"{sandbox_url}/sandbox/complete", json={"token": session["token"]}, timeout=5)
        sign_in(page, page_url)
        row = accounts(page).filter(has_text="HiBob")
        assert row.get_by_text("Test", exact=True).is_visible()

        offered = page.get_by_role("list", name="Available integrations")
        assert offered.get_by_role("button", name="Connect HiBob", exact=True).count() == 0
        assert offered.get_by_role("button", name="Connect BambooHR", exact=True).is_visible()
        offered.get_by_role("button", name="Add another HiBob account").click()
        page.get_by_role("dialog").get_by_label("Label for the new account").fill("Berlin")
        page.get_by_role("dialog").get_by_role("button", name="Add another").click()
        finish_in_hub(page, subdomain="acme-berlin")
        page.get_by_role("status").filter(has_text="Added another HiBob account (Berlin).").wait_for()
        made = sandbox_accounts(sandbox_url)
        assert {(a["provider"], a["label"], a["type"]) for a in made} == {
            ("hibob", None, "test"), ("hibob", "Berlin", "production")}
        # The production account has no badge.
        assert accounts(page).filter(has_text="HiBob (Berlin)").get_by_text("Test", exact=True).count() == 0
        assert errors == []


def test_the_kit_polls_every_2_s_for_a_minute_then_backs_off_and_stops_where_the_hub_stops(browser, tmp_path):
    with deployment(tmp_path, "bearer") as (page_url, service_url, _), watched_page(browser) as (page, _):
        sign_in(page, page_url)
        delays = page.evaluate("""async (url) => {
            const { pollDelay } = await import(url);
            return [0, 59999, 60000, 119999, 120000, 299999, 300000, 3600000, -1, NaN].map(pollDelay);
        }""", f"{service_url}/stackone_static/stackone-connect.js")
        assert delays == [2000, 2000, 4000, 4000, 8000, 8000, None, None, None, None]
