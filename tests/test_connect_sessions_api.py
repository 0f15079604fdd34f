"""POST /stackone_connect_sessions over HTTP: the contract a frontend sees, with StackOne played by `responses`."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
import requests
from responses import matchers

from tests.helpers import API, API_KEY, account, bearer, login, session_answer

URL = "/stackone_connect_sessions"


def post(client, body=None, headers=None, **kwargs):
    return client.post(URL, json=body if body is not None else {}, headers={**bearer(), **(headers or {})}, **kwargs)


def expect_accounts(stackone, *accounts, provider="bamboohr"):
    stackone.get(f"{API}/accounts", json=list(accounts), match=[matchers.query_param_matcher(
        {"origin_owner_id": "org-1", "providers": provider, "page": "1", "page_size": "100"})])


def expect_session(stackone, sent: dict, **answer):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(**answer),
                  match=[matchers.json_params_matcher(sent)])


BASE_SENT = {"origin_owner_id": "org-1", "origin_owner_name": "Acme Inc", "origin_username": "ann@acme.test",
             "expires_in": 1800, "metadata": {"source": "stackone-connect-backend"}, "type": "production"}


def test_seed_frontend_body_creates_with_the_owner_from_the_login(client, stackone):
    expect_accounts(stackone)
    expect_session(stackone, {**BASE_SENT, "origin_username": "bob@acme.test", "provider": "bamboohr"})
    response = post(client, {"originUsername": "bob@acme.test", "provider": "bamboohr"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["token"] == "sess_tok_abcdef123456" and body["action"] == "create" and body["provider"] == "bamboohr"
    assert "accountId" not in body
    assert body["authLinkUrl"] == "https://app.stackone.com/embedded/integrations?token=sess_tok_abcdef123456"
    expires_at = datetime.fromisoformat(body["expiresAt"].replace("Z", "+00:00"))
    assert abs(expires_at - (datetime.now(UTC) + timedelta(seconds=1800))) < timedelta(seconds=5)
    assert response.headers["Cache-Control"] == "no-store"


def test_stackones_own_auth_link_url_is_preferred(client, stackone):
    expect_session(stackone, BASE_SENT, auth_link_url="https://app.stackone.com/embedded/integrations?token=zz")
    assert post(client).get_json()["authLinkUrl"] == "https://app.stackone.com/embedded/integrations?token=zz"


def test_one_existing_account_is_updated_by_id(client, stackone):
    expect_accounts(stackone, account("acc-9"), account("gone", status="archived"), account("theirs", owner="org-2"))
    expect_session(stackone, {**BASE_SENT, "provider": "bamboohr", "account_id": "acc-9", "expires_in": 600})
    body = post(client, {"provider": "bamboohr", "expiresIn": 600}).get_json()
    assert (body["action"], body["accountId"], body["expiresIn"]) == ("update", "acc-9", 600)


def test_multiple_sends_the_flag_and_label(client, stackone):
    expect_accounts(stackone, account("acc-1", label="US"))
    expect_session(stackone, {**BASE_SENT, "provider": "bamboohr", "label": "EU", "multiple": True})
    assert post(client, {"provider": "bamboohr", "multiple": True, "label": "EU"}).get_json()["action"] == "multiple"


def test_categories_without_provider_open_the_selector(client, stackone):
    expect_session(stackone, {**BASE_SENT, "categories": ["hris"]})
    assert post(client, {"category": "hris"}).get_json()["action"] == "create"


def test_explicit_account_id_of_the_owner(client, stackone):
    stackone.get(f"{API}/accounts/acc-3", json=account("acc-3", provider="hibob"))
    expect_session(stackone, {**BASE_SENT, "provider": "hibob", "account_id": "acc-3"})
    body = post(client, {"accountId": "acc-3"}).get_json()
    assert (body["action"], body["accountId"], body["provider"]) == ("update", "acc-3", "hibob")


@pytest.mark.parametrize("answer", [
    {"json": account("acc-3", owner="org-2", origin_owner_name="Other Corp")},
    {"status": 404, "json": {"statusCode": 404, "message": "Not found"}},
])
def test_foreign_and_missing_accounts_look_the_same(client, stackone, answer):
    stackone.get(f"{API}/accounts/acc-3", **answer)
    response = post(client, {"accountId": "acc-3"})
    assert response.status_code == 404
    body = response.get_json()
    assert body["code"] == "account_not_found"
    assert "Other Corp" not in response.get_data(as_text=True) and "org-2" not in response.get_data(as_text=True)
    assert len(stackone.calls) == 1  # no session was requested


@pytest.mark.parametrize(("body", "calls", "status", "code"), [
    ({"accountId": "a", "multiple": True}, [], 422, "conflicting_fields"),
    ({"provider": "workday"}, [], 422, "provider_not_enabled"),
])
def test_policy_refusals_before_stackone(client, stackone, body, calls, status, code):
    response = post(client, body)
    assert (response.status_code, response.get_json()["code"]) == (status, code)
    assert response.mimetype == "application/problem+json"
    assert len(stackone.calls) == 0


def test_provider_mismatch(client, stackone):
    stackone.get(f"{API}/accounts/acc-3", json=account("acc-3", provider="hibob"))
    response = post(client, {"accountId": "acc-3", "provider": "bamboohr"})
    assert (response.status_code, response.get_json()["code"]) == (422, "provider_mismatch")


def test_ambiguous_accounts_list_candidates(client, stackone):
    expect_accounts(stackone, account("a1", label="EU"), account("a2", label="US", status="error"),
                    account("x", owner="org-2", label="theirs"))
    response = post(client, {"provider": "bamboohr"})
    assert response.status_code == 409
    body = response.get_json()
    assert body["code"] == "ambiguous_account"
    # Each named as a person tells them apart: label, else who connected it and when; never credentials.
    common = {"provider": "bamboohr", "providerName": "Bamboohr", "originUsername": "ann@acme.test",
              "createdAt": "2026-01-01T00:00:00.000Z"}
    assert body["candidates"] == [{"id": "a1", "label": "EU", "status": "active", **common},
                                  {"id": "a2", "label": "US", "status": "error", **common}]


def test_duplicate_label(client, stackone):
    expect_accounts(stackone, account("a1", label="EU"))
    response = post(client, {"provider": "bamboohr", "multiple": True, "label": "EU"})
    assert (response.status_code, response.get_json()["code"]) == (409, "duplicate_label")


def test_enabled_providers_come_from_connectors_meta_when_not_configured(env, stackone):
    del env["STACKONE_ENABLED_PROVIDERS"]
    from app import create_app

    client = create_app(env).test_client()
    stackone.get(f"{API}/connectors/meta", json=[{"provider": "bamboohr", "active": True},
                                                 {"provider": "workday", "active": False}])
    for _ in range(2):  # the second request is answered from the cache
        response = post(client, {"provider": "workday"})
        assert response.get_json()["code"] == "provider_not_enabled"
    assert len(stackone.calls) == 1


@pytest.mark.parametrize("field", ["origin_owner_id", "originOwnerId", "origin_owner_name", "OriginOwnerName"])
def test_owner_fields_in_the_body_are_refused(client, stackone, field):
    response = post(client, {"provider": "bamboohr", field: "org-2"})
    assert response.status_code == 400
    body = response.get_json()
    assert body["code"] == "owner_fields_forbidden" and "login" in body["detail"]
    assert len(stackone.calls) == 0


def test_owner_fields_in_the_query_string_are_refused(client, stackone):
    response = client.post(URL + "?originOwnerId=org-2", json={}, headers=bearer())
    assert (response.status_code, response.get_json()["code"]) == (400, "owner_fields_forbidden")
    assert len(stackone.calls) == 0


def test_field_errors_are_422_with_errors_per_field(client, stackone):
    response = post(client, {"multiple": "yes", "expiresIn": "3600", "colour": "red"})
    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == "validation_error"
    assert set(body["errors"]) == {"multiple", "expiresIn", "colour"}
    assert len(stackone.calls) == 0


@pytest.mark.parametrize(("data", "content_type", "status", "code"), [
    ("{not json", "application/json", 400, "invalid_json"),
    ("[1, 2]", "application/json", 400, "invalid_json"),
    ('"text"', "application/json", 400, "invalid_json"),
    ('{"provider": "a", "provider": "b"}', "application/json", 400, "invalid_json"),
    ('{"expiresIn": NaN}', "application/json", 400, "invalid_json"),
    ("", "application/json", 400, "invalid_json"),
    (b'{"label": "\xff"}', "application/json", 400, "invalid_json"),
    ("provider=bamboohr", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
    ('{"provider": "bamboohr"}', None, 415, "unsupported_media_type"),
])
def test_bodies_that_are_not_json_objects(client, stackone, data, content_type, status, code):
    headers = bearer() | ({"Content-Type": content_type} if content_type else {})
    response = client.post(URL, data=data, headers=headers)
    assert (response.status_code, response.get_json()["code"]) == (status, code)
    assert response.mimetype == "application/problem+json"
    assert len(stackone.calls) == 0


def test_bodies_over_64_kib_are_413(client, stackone):
    response = client.post(URL, data='{"label": "' + "x" * 70000 + '"}', headers=bearer(),
                           content_type="application/json")
    assert (response.status_code, response.get_json()["code"]) == (413, "payload_too_large")


@pytest.mark.parametrize("headers", [{}, bearer(login(exp_in=-5)), bearer(login(org_id=None)),
                                     {"Authorization": "Bearer " + login()[:-3] + "abc"}])
def test_no_valid_login_is_401_and_stackone_is_not_called(client, stackone, headers):
    response = client.post(URL, json={"provider": "bamboohr"}, headers=headers)
    assert (response.status_code, response.get_json()["code"]) == (401, "unauthorized")
    assert len(stackone.calls) == 0


@pytest.mark.parametrize(("upstream", "status", "code"), [
    ({"status": 401, "json": {"statusCode": 401, "message": "Invalid API key v1.test.sk_live_secret_api_key_123456"}},
     502, "upstream_auth_failed"),
    ({"status": 400, "json": {"statusCode": 400, "message": "origin_username is weird"}}, 422, "upstream_rejected"),
    ({"status": 500, "body": "Traceback (most recent call last): at stackone internals"}, 502, "upstream_error"),
    ({"body": requests.ReadTimeout("timed out")}, 504, "upstream_timeout"),
    ({"body": requests.ConnectionError("Connection reset by peer")}, 502, "upstream_unreachable"),
])
def test_upstream_failures_are_problems_without_upstream_dumps(client, stackone, caplog, upstream, status, code):
    stackone.post(f"{API}/connect_sessions", **upstream)
    response = post(client, {})
    text = response.get_data(as_text=True)
    assert (response.status_code, response.get_json()["code"]) == (status, code)
    assert API_KEY not in text and "Traceback" not in text and "reset by peer" not in text
    assert API_KEY not in caplog.text


def test_upstream_rejection_shows_stackones_message(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=400, json={"statusCode": 400, "message": "label too long"})
    assert post(client).get_json()["detail"] == "label too long"


def test_bad_api_key_is_logged_loudly(client, stackone, caplog):
    stackone.post(f"{API}/connect_sessions", status=401, json={"statusCode": 401, "message": "Unauthorized"})
    post(client)
    assert any(r.levelno == logging.CRITICAL and "STACKONE_API_KEY" in r.getMessage() for r in caplog.records)


def test_busy_upstream_is_503_with_retry_after(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=429, headers={"Retry-After": "12"}, json={"message": "slow"})
    response = post(client)
    assert (response.status_code, response.headers["Retry-After"]) == (503, "12")


def test_nothing_secret_reaches_the_logs(client, stackone, caplog):
    caplog.set_level(logging.DEBUG)
    token = login()
    expect_accounts(stackone)
    expect_session(stackone, {**BASE_SENT, "provider": "bamboohr"})
    assert client.post(URL, json={"provider": "bamboohr"}, headers=bearer(token)).status_code == 200
    assert token not in caplog.text and "sess_tok_abcdef123456" not in caplog.text and API_KEY not in caplog.text
    assert "PROVIDER-SECRET" not in caplog.text


def test_legacy_flask_session_cookie_works_over_http(env, stackone):
    from app import create_app
    from tests.test_identity import LEGACY_SECRET, legacy_cookie

    env.update(OWNER_AUTH="flask-session", LEGACY_SECRET_KEY=LEGACY_SECRET)
    del env["OWNER_JWT_SECRET"]
    client = create_app(env).test_client()
    client.set_cookie("session", legacy_cookie(org_id="org-1", org_name="Acme Inc", email="ann@acme.test"))
    expect_session(stackone, BASE_SENT)
    response = client.post(URL, json={})
    assert response.status_code == 200 and response.get_json()["action"] == "create"
    client.delete_cookie("session")
    assert client.post(URL, json={}).status_code == 401
