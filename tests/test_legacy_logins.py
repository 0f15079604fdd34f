"""Legacy Flask logins as they really are: keys rotated with SECRET_KEY_FALLBACKS, and sessions kept server-side by
Flask-Session in Redis (a real Flask-Session app writing to a real redis-server; the service only reads)."""

from __future__ import annotations

import pickle

import pytest
import redis
from flask import Flask, session

from app import create_app
from tests.helpers import API, account

OLD_KEY, NEW_KEY = "legacy-old-secret-key-0123456789", "legacy-new-secret-key-9876543210"
OWNER = {"org_id": "org-1", "org_name": "Acme Inc", "email": "ann@acme.test"}


def legacy_app(secret_key: str, **config) -> Flask:
    """A legacy Flask app with a login route that puts the organisation in its session."""
    legacy = Flask("legacy")
    legacy.secret_key = secret_key
    legacy.config.update(config)

    @legacy.post("/login")
    def log_in():
        session.update(OWNER)
        return "ok"

    @legacy.post("/logout")
    def log_out():
        session.clear()
        return "ok"

    return legacy


def login_cookie(legacy: Flask) -> str:
    client = legacy.test_client()
    client.post("/login")
    return client.get_cookie("session").value


def accounts_with(service, cookie: str):
    client = service.test_client()
    client.set_cookie("session", cookie)
    return client.get("/stackone_accounts")


@pytest.fixture
def cookie_env(env):
    env.pop("OWNER_JWT_SECRET")
    return {**env, "OWNER_AUTH": "flask-session", "LEGACY_SECRET_KEY": NEW_KEY}


def test_a_cookie_signed_with_a_rotated_out_key_is_accepted_while_it_is_a_fallback(cookie_env, stackone):
    stackone.get(f"{API}/accounts", json=[account("acc-1")])
    old_cookie = login_cookie(legacy_app(OLD_KEY))
    assert accounts_with(create_app(cookie_env), old_cookie).status_code == 401
    rotated = create_app({**cookie_env, "LEGACY_SECRET_KEY_FALLBACKS": f"older-key-0123456789,{OLD_KEY}"})
    assert accounts_with(rotated, old_cookie).status_code == 200
    # The legacy app itself, rotated the Flask 3.1 way, now signs with the new key: also accepted.
    new_cookie = login_cookie(legacy_app(NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]))
    assert accounts_with(rotated, new_cookie).status_code == 200


@pytest.fixture
def flask_session_app(redis_server):
    store = redis.Redis.from_url(redis_server.url)
    return legacy_app(NEW_KEY, SESSION_TYPE="redis", SESSION_REDIS=store), store


def server_side(legacy: Flask) -> Flask:
    from flask_session import Session

    Session(legacy)
    return legacy


@pytest.mark.parametrize("signed", [False, True])
def test_a_flask_session_redis_login_is_read_and_never_written(env, stackone, redis_server, flask_session_app, signed):
    legacy, store = flask_session_app
    legacy.config["SESSION_USE_SIGNER"] = signed
    server_side(legacy)
    cookie = login_cookie(legacy)
    service_env = {k: v for k, v in env.items() if k != "OWNER_JWT_SECRET"}
    service = create_app({**service_env, "OWNER_AUTH": "flask-session", "LEGACY_SESSION_BACKEND": "redis",
                          "LEGACY_SESSION_REDIS_URL": redis_server.url, "LEGACY_SECRET_KEY": NEW_KEY,
                          "LEGACY_SESSION_USE_SIGNER": "1" if signed else "0"})
    stackone.get(f"{API}/accounts", json=[account("acc-1")])
    before = {key: store.get(key) for key in store.keys("*")}
    answer = accounts_with(service, cookie)
    assert answer.status_code == 200 and [a["id"] for a in answer.get_json()["data"]] == ["acc-1"]
    assert {key: store.get(key) for key in store.keys("*")} == before  # nothing written, nothing renewed
    logged_out = legacy.test_client()
    logged_out.set_cookie("session", cookie)
    logged_out.post("/logout")
    assert accounts_with(service, cookie).status_code == 401


def test_a_pickled_session_is_never_unpickled(env, redis_server, flask_session_app):
    _, store = flask_session_app
    store.set("session:sid-from-an-old-flask-session", pickle.dumps(OWNER))
    service_env = {k: v for k, v in env.items() if k != "OWNER_JWT_SECRET"}
    service = create_app({**service_env, "OWNER_AUTH": "flask-session", "LEGACY_SESSION_BACKEND": "redis",
                          "LEGACY_SESSION_REDIS_URL": redis_server.url})
    assert accounts_with(service, "sid-from-an-old-flask-session").status_code == 401


@pytest.mark.parametrize("nested", [b"\x91" * 100_000 + b"\xc0", b"\x81\xa1a" * 100_000 + b"\xc0"])
def test_a_session_nested_past_any_parser_is_a_401_not_a_500(env, redis_server, flask_session_app, nested):
    """100,000 arrays or maps inside each other, as MessagePack, where the legacy app's Flask-Session keeps logins."""
    _, store = flask_session_app
    store.set("session:sid-nested", nested)
    service_env = {k: v for k, v in env.items() if k != "OWNER_JWT_SECRET"}
    service = create_app({**service_env, "OWNER_AUTH": "flask-session", "LEGACY_SESSION_BACKEND": "redis",
                          "LEGACY_SESSION_REDIS_URL": redis_server.url})
    answer = accounts_with(service, "sid-nested")
    assert (answer.status_code, answer.get_json()["code"]) == (401, "unauthorized")
