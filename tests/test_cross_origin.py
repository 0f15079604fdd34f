"""CORS for the configured origins only, and the origin check that guards the ambient session cookie."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from app import create_app
from config import ConfigError
from tests.helpers import API, bearer, session_answer

PAGE = "http://127.0.0.1:5000"
LEGACY_KEY = "legacy-app-secret-key-0123456789"


def legacy_cookie(**session) -> str:
    legacy = Flask("legacy")
    legacy.secret_key = LEGACY_KEY
    data = {"org_id": "org-1", "org_name": "Acme Inc", "email": "ann@acme.test", **session}
    return SecureCookieSessionInterface().get_signing_serializer(legacy).dumps(data)


@pytest.fixture
def cookie_client(env):
    env.update(OWNER_AUTH="flask-session", LEGACY_SECRET_KEY=LEGACY_KEY, CORS_ALLOWED_ORIGINS=PAGE)
    client = create_app(env).test_client()
    client.set_cookie("session", legacy_cookie())
    return client


def preflight(client, path="/stackone_connect_sessions", origin=PAGE, method="POST"):
    return client.options(path, headers={"Origin": origin, "Access-Control-Request-Method": method,
                                         "Access-Control-Request-Headers": "Authorization, Content-Type, X-Request-ID"})


def test_without_allowed_origins_there_are_no_cors_headers(client):
    response = preflight(client)
    assert not [h for h in response.headers.keys() if h.lower().startswith("access-control")]


def test_a_bearer_page_on_an_allowed_origin_gets_cors_without_credentials(env, stackone):
    env["CORS_ALLOWED_ORIGINS"] = f"{PAGE}, https://app.example.com/"
    client = create_app(env).test_client()
    answer = preflight(client)
    assert answer.status_code == 200
    assert answer.headers["Access-Control-Allow-Origin"] == PAGE
    assert set(answer.headers["Access-Control-Allow-Headers"].split(", ")) == {
        "Authorization", "Content-Type", "X-Request-ID"}
    assert "POST" in answer.headers["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in answer.headers

    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    actual = client.post("/stackone_connect_sessions", json={}, headers={"Origin": PAGE, **bearer()})
    assert actual.status_code == 200 and actual.headers["Access-Control-Allow-Origin"] == PAGE
    assert actual.headers["Access-Control-Expose-Headers"] == "X-Request-ID"
    assert preflight(client, origin="https://app.example.com").headers["Access-Control-Allow-Origin"] == \
        "https://app.example.com"


def test_an_origin_not_listed_gets_no_cors_headers(env):
    env["CORS_ALLOWED_ORIGINS"] = PAGE
    client = create_app(env).test_client()
    for origin in ("http://127.0.0.1:5001", "http://evil.test", "null", PAGE + ".evil.test"):
        assert "Access-Control-Allow-Origin" not in preflight(client, origin=origin).headers


def test_the_webhook_route_never_answers_cors(cookie_client):
    assert "Access-Control-Allow-Origin" not in preflight(cookie_client, "/stackone_webhooks").headers


def test_cookie_mode_allows_credentials_from_the_allowed_origin(cookie_client, stackone):
    answer = preflight(cookie_client)
    assert answer.headers["Access-Control-Allow-Credentials"] == "true"
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    actual = cookie_client.post("/stackone_connect_sessions", json={}, headers={"Origin": PAGE})
    assert actual.status_code == 200 and actual.headers["Access-Control-Allow-Credentials"] == "true"


@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.test"},
    {"Origin": "null"},
    {"Referer": "http://evil.test/page?x=1"},
    {"Referer": "not a url"},
    {"Origin": "http://127.0.0.1:5001"},
])
@pytest.mark.parametrize(("method", "path", "body"), [
    ("post", "/stackone_connect_sessions", {"provider": "bamboohr"}),
    ("post", "/stackone_auth_links", {}),
    ("post", "/stackone_connect_sessions/status", {"token": "sess_tok_abcdef123456"}),
    ("delete", "/stackone_accounts/acc-1", None),
])
def test_cookie_mode_refuses_state_changes_from_other_origins(cookie_client, stackone, headers, method, path, body):
    response = getattr(cookie_client, method)(path, json=body, headers=headers)
    assert (response.status_code, response.get_json()["code"]) == (403, "origin_not_allowed")
    assert response.mimetype == "application/problem+json" and len(stackone.calls) == 0


@pytest.mark.parametrize("headers", [
    {},                                         # no browser: curl, a server-side caller
    {"Origin": PAGE},                           # the allowed sibling origin
    {"Origin": "http://localhost"},             # the service's own origin (the test client's host)
    {"Referer": "http://localhost/integrations"},
])
def test_cookie_mode_accepts_own_allowed_and_browserless_callers(cookie_client, stackone, headers):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    response = cookie_client.post("/stackone_connect_sessions", json={}, headers=headers)
    assert response.status_code == 200, response.get_json()


def test_cookie_mode_reads_are_not_origin_checked(cookie_client, stackone):
    stackone.get(f"{API}/accounts", json=[])
    assert cookie_client.get("/stackone_accounts", headers={"Origin": "http://evil.test"}).status_code == 200


def test_bearer_mode_needs_no_origin_check(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    response = client.post("/stackone_connect_sessions", json={}, headers={"Origin": "http://evil.test", **bearer()})
    assert response.status_code == 200  # a bearer token is never ambient: no other page can send it


@pytest.mark.parametrize("value", ["*", "https://*.example.com", "https://app.example.com/path", "app.example.com",
                                   "ftp://app.example.com"])
def test_allowed_origins_are_exact(env, value):
    env["CORS_ALLOWED_ORIGINS"] = value
    with pytest.raises(ConfigError, match="CORS_ALLOWED_ORIGINS"):
        create_app(env)


def test_behind_a_trusted_proxy_the_origin_check_sees_the_public_host(env, stackone):
    env.update(OWNER_AUTH="flask-session", LEGACY_SECRET_KEY=LEGACY_KEY, TRUSTED_PROXY_COUNT="1")
    client = create_app(env).test_client()
    client.set_cookie("session", legacy_cookie())
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    forwarded = {"X-Forwarded-Host": "app.example.com", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    ok = client.post("/stackone_connect_sessions", json={}, headers={"Origin": "https://app.example.com", **forwarded})
    assert ok.status_code == 200


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(cookie_client, stackone):
    forwarded = {"X-Forwarded-Host": "app.example.com", "X-Forwarded-Proto": "https"}
    refused = cookie_client.post("/stackone_connect_sessions", json={},
                                 headers={"Origin": "https://app.example.com", **forwarded})
    assert (refused.status_code, refused.get_json()["code"]) == (403, "origin_not_allowed")
    assert len(stackone.calls) == 0


@pytest.mark.parametrize("origin", ["http://[", "http://[::1", "::::", "http://a b"])
def test_a_garbled_origin_is_refused_not_a_500(cookie_client, stackone, origin):
    response = cookie_client.post("/stackone_connect_sessions", json={}, headers={"Origin": origin})
    assert (response.status_code, response.get_json()["code"]) == (403, "origin_not_allowed")


@pytest.mark.parametrize("origin", [None, "", "http://evil.test"])
def test_only_an_allowed_origin_learns_the_allowed_origin(cookie_client, origin):
    headers = {} if origin is None else {"Origin": origin}
    for response in (cookie_client.get("/stackone_accounts", headers=headers),
                     cookie_client.options("/stackone_accounts", headers={**headers,
                                                                         "Access-Control-Request-Method": "GET"})):
        assert not [h for h in response.headers.keys() if h.lower().startswith("access-control")]
        assert PAGE not in str(response.headers)
        assert "Origin" in response.headers.get("Vary", "")  # a cache in front keeps one answer per Origin
