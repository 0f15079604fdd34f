"""POST /stackone_auth_links: the same identity, body and policy as connect sessions, with a lifetime of days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from responses import matchers

from tests.helpers import API, account, bearer, session_answer

URL = "/stackone_auth_links"


def sent_with(**fields):
    return [matchers.json_params_matcher({
        "origin_owner_id": "org-1", "origin_owner_name": "Acme Inc", "origin_username": "ann@acme.test",
        "metadata": {"source": "stackone-connect-backend"}, "type": "production", **fields})]


def test_default_link_lives_five_days_and_says_when_it_stops(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="tok+with/odd=chars"),
                  match=sent_with(expires_in=432000))
    response = client.post(URL, json={}, headers=bearer())
    assert response.status_code == 200
    body = response.get_json()
    assert body["url"] == "https://app.stackone.com/embedded/integrations?token=tok%2Bwith%2Fodd%3Dchars"
    assert (body["token"], body["action"], body["expiresIn"]) == ("tok+with/odd=chars", "create", 432000)
    expires_at = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert abs(expires_at - (datetime.now(UTC) + timedelta(days=5))) < timedelta(seconds=5)


def test_stackones_auth_link_url_wins(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201,
                  json=session_answer(auth_link_url="https://app.stackone.com/embedded/integrations?token=s1"))
    body = client.post(URL, json={}, headers=bearer()).get_json()
    assert body["url"] == "https://app.stackone.com/embedded/integrations?token=s1"


def test_seven_days_is_the_most(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(), match=sent_with(expires_in=604800))
    assert client.post(URL, json={"expiresIn": 604800}, headers=bearer()).status_code == 200
    too_long = client.post(URL, json={"expiresIn": 605000}, headers=bearer())
    assert (too_long.status_code, list(too_long.get_json()["errors"])) == (422, ["expiresIn"])


def test_update_of_the_owners_account(client, stackone):
    stackone.get(f"{API}/accounts", json=[account("acc-5")])
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(),
                  match=sent_with(expires_in=432000, provider="bamboohr", account_id="acc-5"))
    body = client.post(URL, json={"provider": "bamboohr"}, headers=bearer()).get_json()
    assert (body["action"], body["accountId"]) == ("update", "acc-5")


@pytest.mark.parametrize(("body", "headers", "status", "code"), [
    ({"originOwnerId": "org-2"}, bearer(), 400, "owner_fields_forbidden"),
    ({"accountId": "a", "multiple": True}, bearer(), 422, "conflicting_fields"),
    ({"provider": "workday"}, bearer(), 422, "provider_not_enabled"),
    ({}, {}, 401, "unauthorized"),
])
def test_same_refusals_as_connect_sessions(client, stackone, body, headers, status, code):
    response = client.post(URL, json=body, headers=headers)
    assert (response.status_code, response.get_json()["code"]) == (status, code)
    assert len(stackone.calls) == 0


def test_someone_elses_account_is_not_found(client, stackone):
    stackone.get(f"{API}/accounts/acc-x", json=account("acc-x", owner="org-2"))
    response = client.post(URL, json={"accountId": "acc-x"}, headers=bearer())
    assert (response.status_code, response.get_json()["code"]) == (404, "account_not_found")


@pytest.mark.parametrize("offered", [
    "javascript:alert(1)", "data:text/html,<script>x</script>", "http://evil.test/x?token=s1",
    "https://evil.test/embedded/integrations?token=s1", "https://app.stackone.com.evil.test/x?token=s1",
    "https://app.stackone.com/embedded/integrations?token=s1\nX", "//evil.test/x", "https:///nohost",
])
def test_an_unsafe_auth_link_url_is_replaced_by_the_hub_link(client, stackone, offered):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="s1", auth_link_url=offered))
    body = client.post(URL, json={}, headers=bearer()).get_json()
    assert body["url"] == "https://app.stackone.com/embedded/integrations?token=s1"


def test_a_link_on_another_https_host_is_replaced_with_one_warning_that_holds_no_token(client, stackone, caplog):
    stackone.post(f"{API}/connect_sessions", status=201,
                  json=session_answer(token="s1-secret", auth_link_url="https://hub.evil.test/x?token=s1-secret"))
    with caplog.at_level("WARNING", logger="sessions.mint"):
        body = client.post(URL, json={}, headers=bearer()).get_json()
    assert body["url"] == "https://app.stackone.com/embedded/integrations?token=s1-secret"
    warnings = [r.getMessage() for r in caplog.records if r.name == "sessions.mint"]
    assert len(warnings) == 1 and "hub.evil.test" in warnings[0] and "s1-secret" not in warnings[0]


def test_http_links_are_kept_only_on_the_configured_stackone_origin(env, stackone):
    from app import create_app

    env["STACKONE_HUB_URL"] = "http://127.0.0.1:8001/embedded/integrations"
    client = create_app(env).test_client()
    sandbox_link = "http://127.0.0.1:8001/embedded/integrations?token=s1"
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(token="s1", auth_link_url=sandbox_link))
    assert client.post(URL, json={}, headers=bearer()).get_json()["url"] == sandbox_link
