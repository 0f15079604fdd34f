"""README screenshots from a running `make run` demo, as README.md says (with the .venv that `make test` builds)."""

from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]


def main(page_url: str = "http://127.0.0.1:5000") -> None:
    """Sign in as the demo organisation, connect BambooHR through the hub, and capture each step."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 1000, "height": 760})
        page.goto(f"{page_url}/demo-login")
        page.get_by_role("button", name="Connect BambooHR", exact=True).wait_for()
        page.screenshot(path=OUT / "integrations-empty.png")
        page.get_by_role("button", name="Connect BambooHR", exact=True).click()
        hub = page.get_by_role("dialog", name="Connect an account")
        hub.get_by_label("Subdomain").wait_for()
        hub.get_by_label("API key").fill("sk_demo_123")
        hub.get_by_label("Subdomain").fill("acme")
        page.screenshot(path=OUT / "hub.png")
        hub.get_by_role("button", name="Connect", exact=True).click()
        page.get_by_role("status").filter(has_text="Connected BambooHR").wait_for()
        page.get_by_role("button", name="Send a link for HiBob").click()
        page.get_by_label("Link for HiBob", exact=True).wait_for()
        page.screenshot(path=OUT / "integrations-connected.png")
        browser.close()


if __name__ == "__main__":
    main(*sys.argv[1:])
