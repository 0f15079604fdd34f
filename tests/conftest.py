"""Fixtures: an app built from an explicit environment, a test client, and StackOne played by `responses`."""

from __future__ import annotations

import os

import pytest
import responses

from app import create_app
from tests.e2e_processes import cleared
from tests.helpers import API, API_KEY, JWT_SECRET


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """A developer's shell never changes a result (as Flask's own conftest strips FLASK_*); the processes the
    end-to-end tests start are cleared of the same list (tests/e2e_processes.py)."""
    for name in list(os.environ):
        if cleared(name):
            monkeypatch.delenv(name)


@pytest.fixture
def env(tmp_path):
    """The environment the app is built from; tests adjust it before asking for `app`."""
    return {
        "STACKONE_API_KEY": API_KEY,
        "STACKONE_API_URL": API,
        "OWNER_AUTH": "jwt",
        "OWNER_JWT_SECRET": JWT_SECRET,
        "STACKONE_ENABLED_PROVIDERS": "bamboohr,hibob,greenhouse",
        "STATE_DIR": str(tmp_path / "state"),
        # Reuse (on by default, 60 s) asks StackOne whether a kept session is still pending: its own tests turn it on.
        "SESSION_REUSE_WINDOW": "0",
    }


@pytest.fixture
def app(env):
    """The service as create_app builds it from `env`."""
    application = create_app(env)
    application.config["TESTING"] = True
    yield application
    application.extensions["stackone_connect"].client.close()


@pytest.fixture
def client(app):
    """Flask's test client."""
    return app.test_client()


@pytest.fixture
def stackone():
    """StackOne played by `responses`: an unexpected call fails, and so does an expected one never made."""
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium (Debian's); skipped loudly when missing, a failure in CI (.ci/run requires it)."""
    from tests.browser_kit import launch_chromium

    yield from launch_chromium()


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server on a free loopback port, stopped after the test."""
    from support.redis_server import RedisServer

    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()
