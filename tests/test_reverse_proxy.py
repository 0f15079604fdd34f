"""docs/browser.md's one-origin layout, run for real: nginx with deploy/nginx/stackone-connect.conf unchanged, in front
of gunicorn (flask-session mode) and the legacy example app, all on loopback."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from tests.browser_kit import accounts, finish_in_hub, watched_page
from tests.e2e_processes import free_port, gunicorn_stack, start, stop, wait_until_up
from tests.nginx_site import start_nginx

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.proxy_key_0123456789"
LEGACY_KEY = "legacy-secret-key-proxy-0123456789"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(http://127.0.0.1:<port>, the sandbox's URL, the logs' folder): the legacy app at /, the service at /stackone_
    and its own Auth Links at /l/ (AUTH_LINK_BASE_URL is the site), through one nginx."""
    logs = tmp_path_factory.mktemp("proxy")
    service_port, legacy_port, site_port = free_port(), free_port(), free_port()
    proxy = start_nginx(logs, site_port, service_port, legacy_port)  # first: skips (or fails) before the rest starts
    legacy = start(["-m", "examples.legacy_flask_app", "--port", str(legacy_port)], {"LEGACY_SECRET_KEY": LEGACY_KEY},
                   logs / "legacy.log")
    try:
        with gunicorn_stack(logs, key=KEY, port=service_port, WEB_CONCURRENCY="1", OWNER_AUTH="flask-session",
                            OWNER_JWT_SECRET=None, LEGACY_SECRET_KEY=LEGACY_KEY,
                            AUTH_LINK_BASE_URL=f"http://127.0.0.1:{site_port}") as stack:
            for url, process in ((f"http://127.0.0.1:{legacy_port}/login", legacy),
                                 (f"http://127.0.0.1:{site_port}/stackone_providers", proxy)):
                wait_until_up(url, process)
            yield f"http://127.0.0.1:{site_port}", stack.sandbox_url, logs
    finally:
        for process in (proxy, legacy):
            stop(process)


def signed_in(site_url: str) -> requests.Session:
    browser = requests.Session()
    answer = browser.post(f"{site_url}/login", data={"org": "acme", "email": "ann@acme.test"}, timeout=5)
    assert answer.status_code == 200 and "Acme Inc" in answer.text
    return browser


def test_the_legacy_login_cookie_reaches_the_service_through_one_origin(site):
    site_url = site[0]
    browser = signed_in(site_url)
    answer = browser.post(f"{site_url}/stackone_connect_sessions", json={"provider": "bamboohr"}, timeout=10,
                          headers={"Origin": site_url, "Referer": f"{site_url}/"})
    assert answer.status_code == 200, answer.text
    assert (answer.json()["action"], "Access-Control-Allow-Origin" in answer.headers) == ("create", False)
    listed = browser.get(f"{site_url}/stackone_accounts", timeout=10)
    assert listed.status_code == 200 and listed.json() == {"data": []}


def test_a_cross_site_post_with_the_cookie_is_refused_and_sends_nothing(site):
    site_url, sandbox_url, _ = site
    browser = signed_in(site_url)
    before = requests.get(f"{sandbox_url}/sandbox/calls", timeout=5).json()
    answer = browser.post(f"{site_url}/stackone_connect_sessions", json={"provider": "bamboohr"}, timeout=10,
                          headers={"Origin": "http://evil.test"})
    assert (answer.status_code, answer.json()["code"]) == (403, "origin_not_allowed")
    assert requests.get(f"{sandbox_url}/sandbox/calls", timeout=5).json() == before


def test_without_the_legacy_login_the_service_says_401(site):
    site_url = site[0]
    answer = requests.post(f"{site_url}/stackone_connect_sessions", json={}, timeout=10, headers={"Origin": site_url})
    assert (answer.status_code, answer.headers["Content-Type"]) == (401, "application/problem+json")


def test_the_integrations_page_through_one_origin_in_a_browser(site, browser):
    """The example app's page behind nginx: the kit and the service at /stackone_ on the page's own origin."""
    site_url, sandbox_url, _ = site
    with watched_page(browser) as (page, errors):
        page.goto(f"{site_url}/login")
        page.get_by_label("Organisation").select_option("globex")
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("button", name="Connect Salesforce", exact=True).click()
        finish_in_hub(page)
        page.get_by_role("status").filter(has_text="Connected Salesforce").wait_for()
        assert accounts(page).filter(has_text="Salesforce").count() == 1
        owned = requests.get(f"{sandbox_url}/accounts", params={"origin_owner_id": "globex"}, auth=(KEY, ""),
                             timeout=5).json()
        assert [a["provider"] for a in owned] == ["salesforce"] and errors == []


def test_an_auth_link_of_ones_own_is_clicked_through_nginx_uncached_and_unlogged(site):
    site_url, sandbox_url, logs = site
    browser = signed_in(site_url)
    made = browser.post(f"{site_url}/stackone_auth_links", json={"provider": "hibob"}, timeout=10,
                        headers={"Origin": site_url})
    assert made.status_code == 200, made.text
    url = made.json()["url"]
    assert url.startswith(f"{site_url}/l/")
    tokens = []
    for _ in range(2):  # the recipient clicks twice: each click reaches the service and gets a session of its own
        click = requests.get(url, allow_redirects=False, timeout=10)
        assert click.status_code == 302, click.text
        assert (click.headers["Cache-Control"], click.headers["Referrer-Policy"]) == ("no-store", "no-referrer")
        tokens.append(parse_qs(urlsplit(click.headers["Location"]).query)["token"][0])
    assert tokens[0] != tokens[1]
    [listed] = [link for link in browser.get(f"{site_url}/stackone_auth_links", timeout=10).json()["links"]
                if link["id"] == made.json()["id"]]
    assert listed["clicks"] == 2
    # nginx's access log has the site's other requests, and not the link's path (its secret).
    logged = (logs / "nginx-access.log").read_text()
    assert "POST /stackone_auth_links" in logged and url.rsplit("/", 1)[1] not in logged


def test_the_documented_l_location_is_the_snippets_own():
    import re

    from tests.e2e_processes import ROOT

    page = (ROOT / "docs" / "browser.md").read_text()
    shown = re.search(r"```nginx\n(location /l/ \{.*?)```", page, re.S).group(1)
    assert shown in (ROOT / "deploy" / "nginx" / "stackone-connect.conf").read_text()


def test_the_documented_nginx_conf_passes_nginx_t_as_pasted(tmp_path):
    import re
    import subprocess

    from tests.e2e_processes import ROOT
    from tests.externals import require

    nginx = require("nginx", "apt-get install nginx")
    page = (ROOT / "docs" / "browser.md").read_text()
    block = re.search(r"```nginx\n(.*?)```", page, re.S).group(1)
    conf = tmp_path / "nginx.conf"
    conf.write_text(block.replace("/srv/stackone-connect/", f"{ROOT}/"))  # the one edit the page asks for
    checked = subprocess.run([nginx, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True,
                             timeout=30)
    assert checked.returncode == 0, checked.stderr
    assert "syntax is ok" in checked.stderr and "test is successful" in checked.stderr
