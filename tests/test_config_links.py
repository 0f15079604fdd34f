"""AUTH_LINK_BASE_URL and AUTH_LINK_CLICK_LIFETIME: read as an operator means them, refused in one line naming them."""

from __future__ import annotations

import pytest

from app import create_app
from config import ConfigError
from config.links import LinkSettings


def test_unset_means_stackones_own_links_and_an_hours_click():
    settings = LinkSettings.from_env({})
    assert (settings.base_url, settings.click_lifetime) == (None, 3600)


@pytest.mark.parametrize(("given", "read"), [
    ("https://connect.example.com", "https://connect.example.com"),
    ("https://connect.example.com/", "https://connect.example.com"),
    ("https://connect.example.com:8443", "https://connect.example.com:8443"),
    ("  https://connect.example.com\n", "https://connect.example.com"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
    ("http://localhost:8000", "http://localhost:8000"),
    ("http://[::1]:8000", "http://[::1]:8000"),
])
def test_an_https_origin_or_http_on_loopback_is_read(given, read):
    assert LinkSettings.from_env({"AUTH_LINK_BASE_URL": given}).base_url == read


@pytest.mark.parametrize("given", [
    "connect.example.com", "http://connect.example.com", "https://connect.example.com/links",
    "https://connect.example.com/?x=1", "https://connect.example.com/#l", "ftp://connect.example.com",
    "https://user:pw@connect.example.com", "https:///nohost", "https://connect example.com", "http://10.0.0.1",
])
def test_anything_but_an_origin_refuses_to_start_in_one_line(env, given):
    env["AUTH_LINK_BASE_URL"] = given
    with pytest.raises(ConfigError, match="AUTH_LINK_BASE_URL must be an https:// origin") as refused:
        create_app(env)
    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(("given", "read"), [("60", 60), ("86400", 86400), (" 900 ", 900)])
def test_the_click_lifetime_is_read_in_seconds(given, read):
    assert LinkSettings.from_env({"AUTH_LINK_CLICK_LIFETIME": given}).click_lifetime == read


@pytest.mark.parametrize(("given", "says"), [
    ("59", "at least 60"), ("86401", "at most 86400"), ("1h", "whole number"), ("-5", "whole number"),
    ("3600.5", "whole number"),
])
def test_a_click_lifetime_out_of_range_refuses_to_start(env, given, says):
    env["AUTH_LINK_CLICK_LIFETIME"] = given
    with pytest.raises(ConfigError, match=f"AUTH_LINK_CLICK_LIFETIME must be .*{says}"):
        create_app(env)


def test_the_app_reads_both(env):
    env.update(AUTH_LINK_BASE_URL="https://connect.example.com", AUTH_LINK_CLICK_LIFETIME="600")
    app = create_app(env)
    links = app.extensions["stackone_connect"].settings.links
    app.extensions["stackone_connect"].client.close()
    assert (links.base_url, links.click_lifetime) == ("https://connect.example.com", 600)
