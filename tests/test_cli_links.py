"""`flask auth-link`, `auth-links` and `auth-link-withdraw` with AUTH_LINK_BASE_URL set: a link of ours printed,
listed and withdrawn by the operator, on the record, each mistake one line."""

from __future__ import annotations

import json

import pytest

from tests.helpers import API

BASE = "https://connect.example.com"


@pytest.fixture
def app(env):
    from app import create_app

    application = create_app({**env, "AUTH_LINK_BASE_URL": BASE})
    yield application
    application.extensions["stackone_connect"].client.close()


def run(app, *args):
    return app.test_cli_runner().invoke(args=list(args))


def send(app, stackone, owner="cust-42"):
    stackone.get(f"{API}/accounts", json=[])
    result = run(app, "auth-link", "--owner-id", owner, "--owner-name", "Globex", "--username", "hr@globex.test",
                 "--provider", "hibob", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_auth_link_prints_our_url_and_mints_nothing(app, stackone, caplog):
    caplog.set_level("INFO", logger="audit")
    stackone.get(f"{API}/accounts", json=[])  # decided now, from StackOne itself; no connect_sessions call
    result = run(app, "auth-link", "--owner-id", "cust-42", "--owner-name", "Globex", "--provider", "hibob")
    assert result.exit_code == 0, result.output
    url = next(line for line in result.output.splitlines() if line.startswith(BASE))
    assert url.startswith(f"{BASE}/l/") and "auth-link-withdraw --owner-id cust-42 lnk_" in result.output
    sent = [r for r in caplog.records if r.name == "audit" and r.getMessage() == "auth_link_sent"]
    assert len(sent) == 1 and sent[0].fields["via"] == "cli" and url.rsplit("/", 1)[1] not in caplog.text


def test_auth_links_lists_and_auth_link_withdraw_withdraws_on_the_record(app, stackone, caplog):
    sent = send(app, stackone)
    listed = run(app, "auth-links", "--owner-id", "cust-42")
    assert listed.exit_code == 0 and sent["id"] in listed.output and "live" in listed.output
    assert "No links of owner cust-99" in run(app, "auth-links", "--owner-id", "cust-99").output
    caplog.set_level("INFO", logger="audit")
    done = run(app, "auth-link-withdraw", "--owner-id", "cust-42", sent["id"])
    assert done.exit_code == 0 and f"Withdrawn: {sent['id']}" in done.output
    assert [r.fields["via"] for r in caplog.records if r.getMessage() == "auth_link_withdrawn"] == ["cli"]
    as_json = json.loads(run(app, "auth-links", "--owner-id", "cust-42", "--json").output)
    assert [link["status"] for link in as_json["links"]] == ["withdrawn"]


@pytest.mark.parametrize(("args", "message"), [
    (("auth-links",), "--owner-id is required"),
    (("auth-link-withdraw", "--owner-id", "cust-42"), "the link's id"),
    (("auth-link-withdraw", "--owner-id", "cust-42", "lnk_AAAAAAAAAAAA"), "link_not_found"),
    (("auth-link-withdraw", "--owner-id", "cust-42", "nonsense"), "link_not_found"),
    (("auth-links", "--owner-id", "cust-42", "--bogus"), "No such option"),
])
def test_mistakes_are_one_line_and_exit_1(app, args, message):
    result = run(app, *args)
    assert result.exit_code == 1 and message in result.output and len(result.output.strip().splitlines()) == 1


def test_another_owners_link_is_not_found(app, stackone):
    sent = send(app, stackone)
    result = run(app, "auth-link-withdraw", "--owner-id", "cust-7", sent["id"])
    assert result.exit_code == 1 and "link_not_found" in result.output


def test_without_a_base_url_listing_says_why_not(env):
    from app import create_app

    result = create_app(env).test_cli_runner().invoke(args=["auth-links", "--owner-id", "cust-42"])
    assert result.exit_code == 1 and "AUTH_LINK_BASE_URL is not set" in result.output
