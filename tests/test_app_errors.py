"""Every error is RFC 9457 problem JSON with a request id; nothing unexpected leaks; the factory checks config."""

from __future__ import annotations

import logging

import pytest

from app import create_app
from config import ConfigError


def test_health_needs_no_stackone(client, stackone):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json() == {"status": "ok"}
    assert len(stackone.calls) == 0


def test_404_is_a_problem(client):
    response = client.get("/no-such-page")
    body = response.get_json()
    assert response.status_code == 404 and response.mimetype == "application/problem+json"
    assert {"type", "title", "status", "detail", "code"} <= set(body) and body["code"] == "not_found"


def test_405_is_a_problem_and_keeps_allow(client):
    response = client.get("/stackone_connect_sessions")
    assert response.status_code == 405 and response.get_json()["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_unexpected_errors_are_500_without_details(app, caplog):
    @app.get("/explode")
    def explode():
        raise RuntimeError("database password is hunter2")

    response = app.test_client().get("/explode")
    text = response.get_data(as_text=True)
    assert response.status_code == 500 and response.get_json()["code"] == "internal_error"
    assert "hunter2" not in text and "Traceback" not in text
    assert "hunter2" not in caplog.text and "Traceback" not in caplog.text
    assert any("RuntimeError" in r.getMessage() for r in caplog.records if r.levelno == logging.ERROR)


def test_request_id_is_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id <script>Evil</script>"}).headers["X-Request-ID"]
    assert len(made) == 32 and "Evil" not in made
    problem = client.get("/nope", headers={"X-Request-ID": "rid-7"})
    assert problem.get_json()["requestId"] == "rid-7"


@pytest.mark.parametrize(("remove", "names"), [
    ("STACKONE_API_KEY", "STACKONE_API_KEY"),
    ("OWNER_AUTH", "OWNER_AUTH"),
    ("OWNER_JWT_SECRET", "OWNER_JWT_SECRET"),
])
def test_missing_settings_refuse_to_build(env, remove, names):
    del env[remove]
    with pytest.raises(ConfigError, match=names):
        create_app(env)


@pytest.mark.parametrize("key", ["v1.eu1.abc\u00a0def", "v1.eu1.\u201cabc\u201d", "v1.eu1.abc def", "v1.eu1.abc\x7f"])
def test_an_api_key_that_cannot_be_sent_refuses_to_build(env, key):
    env["STACKONE_API_KEY"] = key
    with pytest.raises(ConfigError, match="STACKONE_API_KEY has a space"):
        create_app(env)


def test_secrets_are_not_in_the_settings_repr(app):
    from tests.helpers import API_KEY, JWT_SECRET

    text = repr(app.extensions["stackone_connect"].settings)
    assert API_KEY not in text and JWT_SECRET not in text


def test_the_browser_kit_is_served_cacheable_and_versioned(client):
    from browserkit import KIT_VERSION

    pinned = client.get(f"/stackone_static/{KIT_VERSION}/stackone-connect.js")
    assert pinned.status_code == 200 and "export function mountIntegrations" in pinned.get_data(as_text=True)
    assert pinned.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert pinned.mimetype in ("text/javascript", "application/javascript")
    plain = client.get("/stackone_static/stackone-connect.js")
    assert plain.headers["Cache-Control"] == "no-cache" and plain.headers.get("ETag")
    assert client.get("/stackone_static/stackone-connect.js",
                      headers={"If-None-Match": plain.headers["ETag"]}).status_code == 304
    assert client.get("/stackone_static/0.0.1/stackone-connect.js").status_code == 404
    assert client.get("/stackone_static/vendor/../../app.py").status_code == 404


@pytest.mark.parametrize(("name", "value"), [
    ("STACKONE_SESSION_TYPE", "staging"), ("STACKONE_SESSION_TYPE", "Test"),
    ("STACKONE_CONNECTOR_PROFILES", "bamboohr"), ("STACKONE_CONNECTOR_PROFILES", "bamboohr="),
    ("STACKONE_CONNECTOR_PROFILES", "=prof_1"), ("STACKONE_CONNECTOR_PROFILES", "bamboohr=prof 1"),
    ("STACKONE_CONNECTOR_PROFILES", "bamboohr=p1, hibob=p2"), ("STACKONE_CONNECTOR_PROFILES", "workday=p1"),
    ("STACKONE_CONNECTOR_PROFILES", "bamboohr=p1,bamboohr=p2"), ("STACKONE_CONNECTOR_PROFILES", "bamboohr=a=b"),
    ("STACKONE_API_URL", "api.stackone.com"), ("STACKONE_API_URL", "ftp://api.stackone.com"),
    ("STACKONE_HUB_URL", "app.stackone.com/embedded/integrations"),
])
def test_a_malformed_stackone_setting_refuses_to_build_in_one_line_naming_it(env, name, value):
    env[name] = value  # env enables bamboohr, hibob and greenhouse: workday is outside it
    with pytest.raises(ConfigError, match=name) as refused:
        create_app(env)
    assert "\n" not in str(refused.value)


def test_connector_profiles_and_session_type_are_read(env):
    env.update(STACKONE_SESSION_TYPE="test", STACKONE_CONNECTOR_PROFILES="bamboohr=prof_1,HiBob=prof_2")
    settings = create_app(env).extensions["stackone_connect"].settings
    sessions = settings.sessions
    assert (sessions.session_type, sessions.connector_profiles) == ("test", {"bamboohr": "prof_1", "hibob": "prof_2"})


@pytest.mark.parametrize("value", ["total", "total=0", "total=two", "hibob=-1", "=3", "workday=1"])
def test_malformed_account_limits_refuse_to_build(env, value):
    env["ACCOUNT_LIMITS"] = value
    with pytest.raises(ConfigError, match="ACCOUNT_LIMITS"):
        create_app(env)


@pytest.mark.parametrize(("settings", "named"), [
    ({"APP_WEBHOOK_URL": "https://app.example.com/hooks"}, "APP_WEBHOOK_SECRET"),
    ({"APP_WEBHOOK_SECRET": "whsec_" + "A" * 40}, "APP_WEBHOOK_URL"),
    ({"APP_WEBHOOK_URL": "https://app.example.com/hooks", "APP_WEBHOOK_SECRET": "not-a-whsec"}, "APP_WEBHOOK_SECRET"),
    ({"APP_WEBHOOK_URL": "https://app.example.com/hooks", "APP_WEBHOOK_SECRET": "whsec_c2hvcnQ="},
     "APP_WEBHOOK_SECRET"),
    ({"APP_WEBHOOK_URL": "app.example.com/hooks", "APP_WEBHOOK_SECRET": "whsec_" + "A" * 40}, "APP_WEBHOOK_URL"),
    ({"ADMIN_TOKEN": "short"}, "ADMIN_TOKEN"),
    ({"RECONNECT_REMINDER": "10"}, "RECONNECT_REMINDER"),
    ({"CONNECTIONS_SWEEP_SECONDS": "2s"}, "CONNECTIONS_SWEEP_SECONDS"),
    ({"CONNECTIONS_SWEEP_SECONDS": "0"}, "CONNECTIONS_SWEEP_SECONDS"),
    ({"CONNECTIONS_SWEEP_SECONDS": "600"}, "CONNECTIONS_SWEEP_SECONDS"),
])
def test_malformed_event_and_operator_settings_refuse_to_build(env, settings, named):
    env.update(settings)
    with pytest.raises(ConfigError, match=named):
        create_app(env)
