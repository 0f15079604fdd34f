"""The caller's owner from a JWT (HS256, RS256, ES256) or a legacy Flask session cookie, and every refusal."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from flask import Flask, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import TimestampSigner

from config import ConfigError, Settings
from errors import Unauthorized
from identity.owner import Owner
from identity.resolver import build_resolver
from tests.helpers import API_KEY, JWT_SECRET, login


def settings(**env):
    return Settings.from_env({"STACKONE_API_KEY": API_KEY, **env})


def resolve_bearer(token, **env):
    resolver = build_resolver(settings(OWNER_AUTH="jwt", **({"OWNER_JWT_SECRET": JWT_SECRET} | env)))
    return resolver.resolve({"Authorization": f"Bearer {token}"}, {})


def test_hs256_login_gives_the_owner():
    assert resolve_bearer(login()) == Owner("org-1", "Acme Inc", "ann@acme.test")


def test_a_token_verified_once_still_stops_working_when_it_expires(monkeypatch, caplog):
    resolver = build_resolver(settings(OWNER_AUTH="jwt", OWNER_JWT_SECRET=JWT_SECRET))
    headers = {"Authorization": f"Bearer {login(exp_in=30)}"}
    assert resolver.resolve(headers, {}).id == "org-1"
    assert resolver.resolve(headers, {}).id == "org-1"  # again, from the verified-token cache
    later = time.time() + 31
    monkeypatch.setattr("identity.jwt_bearer.time.time", lambda: later)
    caplog.set_level(logging.INFO)
    with pytest.raises(Unauthorized, match="expired"):
        resolver.resolve(headers, {})
    assert "login refused: expired" in caplog.text


def test_a_refused_token_is_checked_again_each_time_not_remembered():
    resolver = build_resolver(settings(OWNER_AUTH="jwt", OWNER_JWT_SECRET=JWT_SECRET))
    forged = {"Authorization": f"Bearer {login(secret='another-secret-of-sufficient-length-x')}"}
    for _ in range(2):
        with pytest.raises(Unauthorized, match="not valid"):
            resolver.resolve(forged, {})


def test_integer_org_ids_are_read_as_text():
    assert resolve_bearer(login(org_id=42)).id == "42"


def test_claim_names_are_configurable():
    token = jwt.encode({"tenant": "t-9", "tenant_name": "Nine", "sub": "u@nine", "exp": int(time.time()) + 60},
                       JWT_SECRET, algorithm="HS256")
    owner = resolve_bearer(token, OWNER_ID_FIELD="tenant", OWNER_NAME_FIELD="tenant_name", OWNER_USERNAME_FIELD="sub")
    assert owner == Owner("t-9", "Nine", "u@nine")


@pytest.mark.parametrize("token", [
    login(exp_in=-10),                                   # expired
    login(secret="another-secret-of-sufficient-length-x"),  # wrong key
    jwt.encode({"org_id": "o", "org_name": "n"}, JWT_SECRET, algorithm="HS256"),  # no exp
    jwt.encode({"org_id": "o", "org_name": "n", "exp": int(time.time()) + 60}, None, algorithm="none"),
    # HS512 is refused for its algorithm alone (the longer key only keeps PyJWT from warning).
    jwt.encode({"org_id": "o", "org_name": "n", "exp": int(time.time()) + 60}, JWT_SECRET * 2, algorithm="HS512"),
    login(org_id=None),                                  # no owner id claim
    login(org_name=None),                                # no owner name claim
    login(org_id=True),                                  # not an id
    "not-a-jwt",
])
def test_bad_tokens_are_401(token):
    with pytest.raises(Unauthorized):
        resolve_bearer(token)


@pytest.mark.parametrize("header", [None, "", "Basic abc", "Bearer", "Bearer  "])
def test_missing_bearer_is_401(header):
    resolver = build_resolver(settings(OWNER_AUTH="jwt", OWNER_JWT_SECRET=JWT_SECRET))
    with pytest.raises(Unauthorized):
        resolver.resolve({"Authorization": header} if header is not None else {}, {})


def test_issuer_and_audience_are_enforced_when_configured():
    good = login(iss="https://login.acme.test", aud="connect")
    env = {"OWNER_JWT_ISSUER": "https://login.acme.test", "OWNER_JWT_AUDIENCE": "connect"}
    assert resolve_bearer(good, **env).id == "org-1"
    for bad in (login(iss="https://evil.test", aud="connect"), login(iss="https://login.acme.test"), login()):
        with pytest.raises(Unauthorized):
            resolve_bearer(bad, **env)


def _hs256_by_hand(claims: dict, key: bytes) -> str:
    """Build an HS256 JWT without PyJWT, which (rightly) refuses a PEM as an HMAC key."""
    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")
    signing_input = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode()) + "." + b64(json.dumps(claims).encode())
    return signing_input + "." + b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())


def _pem(public_key) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


@pytest.mark.parametrize(("private_key", "alg"), [
    (rsa.generate_private_key(public_exponent=65537, key_size=2048), "RS256"),
    (ec.generate_private_key(ec.SECP256R1()), "ES256"),
])
def test_public_key_logins(private_key, alg):
    pem = _pem(private_key.public_key())
    claims = {"org_id": "org-7", "org_name": "Seven", "exp": int(time.time()) + 60}
    resolver = build_resolver(settings(OWNER_AUTH="jwt", OWNER_JWT_PUBLIC_KEY=pem))
    token = jwt.encode(claims, private_key, algorithm=alg)
    assert resolver.resolve({"Authorization": f"Bearer {token}"}, {}).id == "org-7"
    # Key confusion: an HS256 token whose HMAC key is the public PEM itself must not pass.
    forged = _hs256_by_hand(claims, pem.encode())
    with pytest.raises(Unauthorized):
        resolver.resolve({"Authorization": f"Bearer {forged}"}, {})


def test_incomplete_jwt_setup_is_a_config_error():
    with pytest.raises(ConfigError, match="OWNER_JWT_SECRET"):
        settings(OWNER_AUTH="jwt")
    with pytest.raises(ConfigError, match="PEM"):
        build_resolver(settings(OWNER_AUTH="jwt", OWNER_JWT_PUBLIC_KEY="-----BEGIN PUBLIC KEY-----\nnope\n"))


# --- the legacy Flask app's session cookie -------------------------------------------------------

LEGACY_SECRET = "the-legacy-apps-secret-key"


class SignedEarlier(SecureCookieSessionInterface):
    """A legacy app's sessions, signed `seconds` ago by its own clock (the verifying process's clock is left alone)."""

    def __init__(self, seconds: int) -> None:
        class Signer(TimestampSigner):
            def get_timestamp(self) -> int:
                return super().get_timestamp() - seconds

        self.signer = Signer

    def get_signing_serializer(self, app):
        serializer = super().get_signing_serializer(app)
        serializer.signer = self.signer
        return serializer


def legacy_cookie(secret=LEGACY_SECRET, signed_ago: int = 0, **values) -> str:
    """Log in on a real (legacy) Flask app and take the cookie it sets, as a browser would."""
    legacy = Flask("legacy")
    legacy.secret_key = secret
    if signed_ago:
        legacy.session_interface = SignedEarlier(signed_ago)

    @legacy.post("/login")
    def do_login():
        session.update(values)
        return "ok"

    response = legacy.test_client().post("/login")
    cookie = response.headers["Set-Cookie"].split(";")[0]
    return cookie.split("=", 1)[1]


def resolve_cookie(cookie, name="session", **env):
    resolver = build_resolver(settings(OWNER_AUTH="flask-session", LEGACY_SECRET_KEY=LEGACY_SECRET, **env))
    return resolver.resolve({}, {name: cookie} if cookie else {})


def test_legacy_session_cookie_gives_the_owner():
    cookie = legacy_cookie(org_id="org-3", org_name="Three", email="c@three.test")
    assert resolve_cookie(cookie) == Owner("org-3", "Three", "c@three.test")


def test_legacy_cookie_name_is_configurable():
    cookie = legacy_cookie(org_id="org-3", org_name="Three")
    assert resolve_cookie(cookie, name="legacy", LEGACY_SESSION_COOKIE="legacy").id == "org-3"


@pytest.mark.parametrize("cookie", [
    None,
    legacy_cookie(secret="some-other-apps-key", org_id="org-3", org_name="Three"),
    legacy_cookie(org_id="org-3", org_name="Three")[:-2] + "xx",
    legacy_cookie(org_name="Three"),
    "garbage",
])
def test_bad_legacy_cookies_are_401(cookie):
    with pytest.raises(Unauthorized):
        resolve_cookie(cookie)


def test_legacy_cookie_older_than_max_age_is_401():
    cookie = legacy_cookie(org_id="org-3", org_name="Three", signed_ago=120)
    with pytest.raises(Unauthorized):
        resolve_cookie(cookie, LEGACY_SESSION_MAX_AGE="60")


def test_flask_session_mode_needs_the_legacy_key():
    with pytest.raises(ConfigError, match="LEGACY_SECRET_KEY"):
        settings(OWNER_AUTH="flask-session")


@pytest.mark.parametrize(("claims", "named"), [({"org_id": None}, "'org_id'"), ({"org_name": None}, "'org_name'")])
def test_a_missing_owner_claim_is_named(claims, named, caplog):
    caplog.set_level(logging.INFO)
    with pytest.raises(Unauthorized) as refused:
        resolve_bearer(login(**claims))
    assert named in refused.value.detail and "claim" in refused.value.detail
    assert any(named in r.getMessage() for r in caplog.records if r.name == "identity")


def test_a_configured_claim_name_is_the_one_named():
    token = jwt.encode({"org_id": "o", "org_name": "n", "exp": int(time.time()) + 60}, JWT_SECRET, algorithm="HS256")
    with pytest.raises(Unauthorized, match="'tenant'"):
        resolve_bearer(token, OWNER_ID_FIELD="tenant")


@pytest.mark.parametrize(("token", "reason"), [
    (login(exp_in=-10), "expired"),
    (login(secret="another-secret-of-sufficient-length-x"), "bad signature"),
    (jwt.encode({"org_id": "o", "org_name": "n", "exp": int(time.time()) + 60}, JWT_SECRET * 2, algorithm="HS512"),
     "wrong algorithm"),
    (jwt.encode({"org_id": "o", "org_name": "n"}, JWT_SECRET, algorithm="HS256"), "missing required claim 'exp'"),
    ("not-a-jwt", "not a well-formed JWT"),
])
def test_refused_tokens_are_logged_at_info_with_the_reason_not_the_token(token, reason, caplog):
    caplog.set_level(logging.INFO)
    with pytest.raises(Unauthorized):
        resolve_bearer(token)
    lines = [r.getMessage() for r in caplog.records if r.name == "identity"]
    assert lines and reason in lines[0] and token not in caplog.text
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "identity")


def test_a_forged_cookie_is_logged_as_a_bad_signature(caplog):
    caplog.set_level(logging.INFO)
    resolver = build_resolver(settings(OWNER_AUTH="flask-session", LEGACY_SECRET_KEY="the-real-key-0123456789"))
    forged = Flask("x")
    forged.secret_key = "another-key-0123456789"
    cookie = SecureCookieSessionInterface().get_signing_serializer(forged).dumps({"org_id": "o", "org_name": "n"})
    with pytest.raises(Unauthorized):
        resolver.resolve({}, {"session": cookie})
    assert any("bad signature" in r.getMessage() for r in caplog.records if r.name == "identity")
    assert cookie not in caplog.text


def test_a_refused_login_is_logged_once_per_request(client, caplog):
    caplog.set_level(logging.INFO)
    client.post("/stackone_connect_sessions", json={}, headers={"Authorization": "Bearer not-a-jwt"})
    assert len([r for r in caplog.records if r.name == "identity"]) == 1
