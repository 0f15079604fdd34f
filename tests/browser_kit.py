"""Shared by the browser tests: Debian's Chromium through playwright, and what a user does on the page."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from browserkit.vendor import TARGET as HUB_BUNDLE
from tests.externals import require

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def launch_chromium():
    """Debian's Chromium through playwright (browsers cannot be downloaded here)."""
    chromium = require("chromium", "apt-get install chromium")
    if not HUB_BUNDLE.exists():
        pytest.fail(f"{HUB_BUNDLE.name} is missing: `make test` fetches it (python -m browserkit.vendor)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def watched_page(browser):
    """A fresh page whose console errors and uncaught exceptions are collected (and must stay empty)."""
    context = browser.new_context(viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    try:
        yield page, errors
    finally:
        context.close()


def sign_in(page, page_url):
    page.goto(f"{page_url}/login")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Integrations").wait_for()
    page.get_by_role("list", name="Available integrations").get_by_role("button").first.wait_for()


def finish_in_hub(page, api_key="sk_test_1", subdomain="acme"):
    """What the user does in StackOne's hub: the provider's credentials form, then Connect."""
    hub = page.get_by_role("dialog", name="Connect an account")
    hub.get_by_label("Subdomain").wait_for()
    editing = hub.get_by_role("button", name="Edit")
    if editing.count():  # the hub opened an existing account: its secret shows redacted until the user edits it
        editing.first.click()
    hub.get_by_label("API key").fill(api_key)
    subdomain_field = hub.get_by_label("Subdomain")
    subdomain_field.fill("")
    subdomain_field.fill(subdomain)
    hub.get_by_role("button", name="Connect", exact=True).click()
    hub.wait_for(state="detached")


def accounts(page):
    return page.get_by_role("list", name="Connected accounts").get_by_role("listitem")


