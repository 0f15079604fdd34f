"""The integrations page in headless Chromium (Debian's, driven by playwright) with StackOne's real <stackone-hub>
component against the sandbox: the example legacy app on one port, the service on another (CORS), both login modes.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.browser_kit import accounts, finish_in_hub, sign_in, watched_page
from tests.e2e_processes import free_port, gunicorn_stack, running_sandbox, start, stop, wait_until_up

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.browser_key_0123456789"
WEBHOOK_SECRET = "whsec_browser_0123456789"
LEGACY_KEY = "legacy-browser-secret-0123456789"
JWT_KEY = "jwt-browser-secret-0123456789-0123456789"
@contextmanager
def deployment(tmp_path, mode: str, open_with: str = "hub", also_allowed: str = "", **service_env: str):
    """Sandbox, service and the example app on three loopback ports, wired as docs/browser.md's sibling layout;
    `service_env`: more of the service's settings, where "{service_url}" stands for its own URL."""
    service_port, page_port = free_port(), free_port()
    service_url, page_url = f"http://127.0.0.1:{service_port}", f"http://127.0.0.1:{page_port}"
    login_env = ({"OWNER_AUTH": "flask-session", "LEGACY_SECRET_KEY": LEGACY_KEY, "OWNER_JWT_SECRET": None}
                 if mode == "cookie" else {"OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": JWT_KEY})
    with running_sandbox(tmp_path, KEY, SANDBOX_WEBHOOK_SECRET=WEBHOOK_SECRET,
                         SANDBOX_WEBHOOK_URL=f"{service_url}/stackone_webhooks") as sandbox_url, gunicorn_stack(
            tmp_path, key=KEY, port=service_port, sandbox_url=sandbox_url,
            STACKONE_HUB_URL=f"{sandbox_url}/embedded/integrations", STACKONE_WEBHOOK_SECRETS=WEBHOOK_SECRET,
            CORS_ALLOWED_ORIGINS=",".join(filter(None, (page_url, also_allowed))), **login_env,
            **{name: value.format(service_url=service_url) for name, value in service_env.items()}):
        example = start(["-m", "examples.legacy_flask_app", "--port", str(page_port)], {
            "LEGACY_SECRET_KEY": LEGACY_KEY, "OWNER_JWT_SECRET": JWT_KEY, "EXAMPLE_AUTH": mode,
            "EXAMPLE_SERVICE_URL": service_url, "EXAMPLE_OPEN_WITH": open_with}, tmp_path / "example.log")
        try:
            wait_until_up(f"{page_url}/login", example)
            yield page_url, service_url, sandbox_url
        finally:
            stop(example)


@pytest.fixture(scope="module")
def cookie_deployment(tmp_path_factory):
    """One deployment in the legacy session cookie mode for the tests below that use it (none makes an account but
    the lifecycle's); its folder last, for gunicorn's log."""
    folder = tmp_path_factory.mktemp("cookie")
    with deployment(folder, "cookie") as urls:
        yield (*urls, folder)


def bearer_token() -> str:
    """A login JWT for the example app's organisation (bearer mode)."""
    import jwt

    return jwt.encode({"org_id": "acme", "org_name": "Acme Inc", "email": "admin@acme.test", "exp": 2**40}, JWT_KEY,
                      algorithm="HS256")


def sandbox_accounts(sandbox_url, owner="acme"):
    """The sandbox's own record, asked directly: what StackOne would hold."""
    listed = requests.get(f"{sandbox_url}/accounts", params={"origin_owner_id": owner}, auth=(KEY, ""), timeout=5)
    return listed.json()


def test_the_whole_lifecycle_with_the_legacy_session_cookie(browser, cookie_deployment):
    page_url, _, sandbox_url, _ = cookie_deployment
    with watched_page(browser) as (page, errors):
        colleague = page.context.new_page()  # a colleague's page, opened now and not reloaded: it will be stale
        sign_in(colleague, page_url)
        sign_in(page, page_url)
        page.get_by_role("button", name="Connect BambooHR", exact=True).click()
        finish_in_hub(page)
        page.get_by_role("status").filter(has_text="Connected BambooHR").wait_for()
        # Connected: the provider is now offered as "Add another", not as a Connect that would only update it.
        offered = page.get_by_role("list", name="Available integrations")
        assert offered.get_by_role("button", name="Add another BambooHR account").is_visible()
        assert offered.get_by_role("button", name="Connect BambooHR", exact=True).count() == 0
        assert accounts(page).filter(has_text="BambooHR").count() == 1
        first = sandbox_accounts(sandbox_url)
        assert [a["provider"] for a in first] == ["bamboohr"]
        # A healthy account can be re-linked too (new credentials), from its own row.
        assert accounts(page).get_by_role("button", name="Reconnect BambooHR").is_visible()

        # A provider revokes the key: the sandbox marks the account broken; the page offers Reconnect.
        requests.post(f"{sandbox_url}/sandbox/accounts/{first[0]['id']}/status", timeout=5, json={
            "status": "error", "reasons": [{"code": "invalid_credentials", "description": "API key revoked"}]})
        page.reload()
        broken = accounts(page).filter(has_text="API key revoked")
        broken.get_by_role("button", name="Reconnect").click()
        finish_in_hub(page, api_key="sk_test_2")
        page.get_by_role("status").filter(has_text="Reconnected BambooHR.").wait_for()  # says what happened
        relinked = sandbox_accounts(sandbox_url)
        assert [(a["id"], a["status"]) for a in relinked] == [(first[0]["id"], "active")]  # updated, not a second
        assert accounts(page).filter(has_text="API key revoked").count() == 0

        # Add another with a label.
        accounts(page).first.get_by_role("button", name="Add another").click()
        page.get_by_role("dialog").get_by_label("Label for the new account").fill("EU office")
        page.get_by_role("dialog").get_by_role("button", name="Add another").click()
        finish_in_hub(page, subdomain="acme-eu")
        page.get_by_role("status").filter(has_text="Added another BambooHR account (EU office).").wait_for()
        page.get_by_role("list", name="Connected accounts").get_by_text("BambooHR (EU office)").wait_for()
        assert len(sandbox_accounts(sandbox_url)) == 2

        # The colleague's page, loaded before any of this, still offers Connect BambooHR: two accounts match, so it
        # asks which one. The unlabelled one is named by who connected it and when, never by a bare id; pick the
        # labelled one.
        colleague.get_by_role("button", name="Connect BambooHR", exact=True).click()
        chooser = colleague.get_by_role("dialog", name="Which BambooHR account?")
        unlabelled = chooser.get_by_role("button", name="Update BambooHR, connected by admin@acme.test on")
        unlabelled.wait_for()
        assert unlabelled.count() == 1 and first[0]["id"] not in unlabelled.inner_text()
        chooser.get_by_role("button", name="Update BambooHR (EU office)").click()
        finish_in_hub(colleague, api_key="sk_test_3")
        colleague.get_by_role("status").filter(has_text="Reconnected BambooHR (EU office).").wait_for()
        assert len(sandbox_accounts(sandbox_url)) == 2

        # Disconnect one, with a confirmation.
        page.get_by_role("button", name="Disconnect BambooHR (EU office)").click()
        page.get_by_role("dialog", name="Disconnect BambooHR (EU office)?").get_by_role(
            "button", name="Disconnect").click()
        page.get_by_role("status").filter(has_text="Disconnected BambooHR (EU office)").wait_for()
        assert accounts(page).count() == 1 and len(sandbox_accounts(sandbox_url)) == 1
        # (The browser itself logs the chooser's 409 as a failed resource; the page logs nothing.)
        errors[:] = [e for e in errors if "status of 409" not in e]

        # Send a link, on a short screen: the link is brought into view, focused and announced.
        page.set_viewport_size({"width": 900, "height": 420})
        page.get_by_role("button", name="Send a link for HiBob").click()
        link = page.get_by_label("Link for HiBob", exact=True)
        page.get_by_role("status").filter(has_text="A link to connect HiBob is ready").wait_for()
        assert link.evaluate("el => document.activeElement === el")
        assert link.evaluate("el => { const r = el.getBoundingClientRect(); return r.top >= 0 && "
                             "r.bottom <= window.innerHeight; }")
        assert link.input_value().startswith(f"{sandbox_url}/embedded/integrations?token=")  # StackOne's own link
        assert page.get_by_role("list", name="Sent links").count() == 0  # none of its own to list or withdraw
        expiry = page.locator("time").get_attribute("datetime")
        assert expiry.endswith("Z") and page.get_by_role("button", name="Copy the link").is_visible()
        assert errors == []


def test_a_refusal_shows_the_detail_and_the_request_id(browser, cookie_deployment):
    page_url = cookie_deployment[0]
    with watched_page(browser) as (page, errors):
        sign_in(page, page_url)
        page.context.clear_cookies()  # the login lapses while the page is open
        page.get_by_role("button", name="Connect HiBob", exact=True).click()
        alert = page.get_by_role("alert")
        alert.wait_for()
        assert "no session cookie" in alert.inner_text() and "request id" in alert.inner_text()
        assert [e for e in errors if "401" not in e] == []  # the browser itself logs the failed fetch's 401


class CrossSitePage(BaseHTTPRequestHandler):
    """Another site's page that tries to use the visitor's cookie against the service."""

    target = ""

    def do_GET(self):  # noqa: N802 - the stdlib's name
        # A JSON post needs a preflight, which the service does not grant this origin; a "simple" text/plain
        # post goes out without one (no-cors), cookie and all: that one is the origin check's to refuse.
        body = (f"<!doctype html><title>evil</title><script>const url = {self.target!r} + '/stackone_auth_links';"
                "fetch(url, {method: 'POST', credentials: 'include', headers: {'Content-Type': 'application/json'},"
                " body: '{}'}).catch(() => null).then(() => fetch(url, {method: 'POST', mode: 'no-cors', "
                "credentials: 'include', headers: {'Content-Type': 'text/plain'}, body: '{}'}))"
                ".then(() => document.title = 'sent', () => document.title = 'blocked');</script>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


def test_a_cross_site_page_cannot_use_the_cookie(browser, cookie_deployment):
    page_url, service_url, sandbox_url, folder = cookie_deployment
    with watched_page(browser) as (page, _):
        sign_in(page, page_url)
        before = requests.get(f"{sandbox_url}/sandbox/calls", timeout=5).json()
        CrossSitePage.target = service_url
        server = ThreadingHTTPServer(("127.0.0.1", free_port()), CrossSitePage)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            # "localhost" is another site than 127.0.0.1 to the browser, and not in CORS_ALLOWED_ORIGINS.
            page.goto(f"http://localhost:{server.server_address[1]}/")
            page.wait_for_function("document.title === 'blocked' || document.title === 'sent'")
        finally:
            server.shutdown()
        assert requests.get(f"{sandbox_url}/sandbox/calls", timeout=5).json() == before
        log = (folder / "gunicorn.log").read_text()
        assert 'POST /stackone_auth_links 403' in log  # the service's access line


def test_the_page_with_a_login_jwt(browser, tmp_path):
    with deployment(tmp_path, "bearer") as (page_url, _, sandbox_url), watched_page(browser) as (page, errors):
        sign_in(page, page_url)
        page.get_by_role("button", name="Connect Greenhouse", exact=True).click()
        finish_in_hub(page)
        page.get_by_role("status").filter(has_text="Connected Greenhouse").wait_for()
        assert [a["provider"] for a in sandbox_accounts(sandbox_url)] == ["greenhouse"]
        assert errors == []


def test_make_runs_demo_page_works_as_printed(browser, tmp_path):
    """`make run` as a newcomer runs it: the banner's page URL, the demo login applied, the real hub."""
    ports = {"PORT": free_port(), "SANDBOX_PORT": free_port(), "DEMO_PAGE_PORT": free_port()}
    demo = start(["devserver.py"], {k: str(v) for k, v in ports.items()}, tmp_path / "make-run.log")
    try:
        page_url = f"http://127.0.0.1:{ports['DEMO_PAGE_PORT']}"
        wait_until_up(f"{page_url}/login", demo, seconds=30)
        banner_url = f"{page_url}/demo-login"
        for _ in range(100):  # the banner follows once every server answers
            if banner_url in (tmp_path / "make-run.log").read_text():
                break
            threading.Event().wait(0.1)
        assert banner_url in (tmp_path / "make-run.log").read_text()
        with watched_page(browser) as (page, errors):
            page.goto(banner_url)
            page.get_by_role("button", name="Connect HiBob", exact=True).click()
            finish_in_hub(page)
            page.get_by_role("status").filter(has_text="Connected HiBob").wait_for()
            assert accounts(page).filter(has_text="HiBob").count() == 1 and errors == []
    finally:
        stop(demo)


def test_a_page_that_prefers_the_auth_link_in_a_popup(browser, tmp_path):
    """openWith "popup": the session's authLinkUrl in a window; completion learnt by polling the status route."""
    with deployment(tmp_path, "bearer", open_with="popup") as (page_url, service_url, sandbox_url):
        with watched_page(browser) as (page, errors):
            sign_in(page, page_url)
            with page.expect_popup() as opened:
                page.get_by_role("button", name="Connect Salesforce", exact=True).click()
            hub_window = opened.value
            hub_window.get_by_role("button", name="Connect").click()  # the sandbox's hub page
            page.get_by_role("status").filter(has_text="Connected Salesforce").wait_for()
            assert [a["provider"] for a in sandbox_accounts(sandbox_url)] == ["salesforce"] and errors == []
        # The sandbox's own Auth Link page, opened on its own, logs nothing either (its favicon included).
        with watched_page(browser) as (link_page, link_errors):
            minted = requests.post(f"{service_url}/stackone_auth_links", json={"provider": "hibob"}, timeout=10,
                                   headers={"Authorization": f"Bearer {bearer_token()}"}).json()
            link_page.goto(minted["url"])
            link_page.get_by_role("button", name="Connect").wait_for()
            link_page.wait_for_timeout(500)  # the favicon is asked for after the load
        assert link_errors == []


class OwnPage(BaseHTTPRequestHandler):
    """Serves docs/browser.md's own-page example, as pasted but for where the service runs."""

    html = b""

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.send_response(200 if self.path == "/" else 204)  # / the page; anything else (the favicon) empty
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(self.html if self.path == "/" else b"")

    def log_message(self, *args):
        pass


def test_the_documented_page_of_ones_own_opens_the_hub_and_learns_the_outcome(browser, tmp_path):
    import re

    import jwt

    from tests.e2e_processes import ROOT

    port = free_port()
    own_origin = f"http://127.0.0.1:{port}"
    with deployment(tmp_path, "bearer", also_allowed=own_origin) as (_, service_url, sandbox_url), \
            watched_page(browser) as (page, errors):
        block = re.search(r"```html\n(.*?)```", (ROOT / "docs" / "browser.md").read_text(), re.S).group(1)
        OwnPage.html = block.replace("https://connect.example.com", service_url).encode()
        server = ThreadingHTTPServer(("127.0.0.1", port), OwnPage)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            token = jwt.encode({"org_id": "acme", "org_name": "Acme Inc", "email": "admin@acme.test",
                                "exp": 2**40}, JWT_KEY, algorithm="HS256")
            page.add_init_script(f"window.loginToken = {token!r};")
            page.goto(f"{own_origin}/")
            page.get_by_role("button", name="Connect HiBob").click()
            finish_in_hub(page)
            outcome = page.get_by_role("status").filter(has_text="Connected (account")
            outcome.wait_for()
            made = sandbox_accounts(sandbox_url)
            assert [a["provider"] for a in made] == ["hibob"] and made[0]["id"] in outcome.inner_text()
            assert errors == []
        finally:
            server.shutdown()
