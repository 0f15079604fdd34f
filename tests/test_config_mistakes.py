"""Settings mistakes as an operator meets them, from a real gunicorn: refused in one line naming the variable, or
started with one warning naming the setting that was meant."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import requests

from serving.unknown_settings import KNOWN_SETTINGS, unknown_settings
from tests.e2e_processes import (
    ROOT,
    clean_environment,
    free_port,
    gunicorn_stack,
    running_sandbox,
    start,
    stop,
    wait_until_up,
)
from tests.helpers import JWT_SECRET, bearer

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.mistakes_key_0123456789"


def service_env(tmp_path, **extra) -> dict[str, str]:
    return {"WEB_CONCURRENCY": "1", "LOG_FORMAT": "text", "STACKONE_API_KEY": KEY,
            "STACKONE_API_URL": f"http://127.0.0.1:{free_port()}", "OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": JWT_SECRET,
            "STATE_DIR": str(tmp_path / "state"), "BIND": f"127.0.0.1:{free_port()}", **extra}


def refused(tmp_path, **extra) -> list[str]:
    """Run gunicorn, which must refuse: its lines saying why."""
    run = subprocess.run([sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"), "wsgi:app"],
                         cwd=ROOT, env={**clean_environment(), **service_env(tmp_path, **extra)},
                         capture_output=True, text=True, timeout=30)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    return [line for line in run.stderr.splitlines() if "refusing to start" in line]


@pytest.mark.parametrize("value", ["bamboohr hibob", "bamboohr,hi bob", "bamboohr\thibob"])
def test_providers_separated_by_spaces_refuse_in_one_line_naming_the_variable(tmp_path, value):
    # With caps set too, the refusal still names this variable, not ACCOUNT_LIMITS.
    lines = refused(tmp_path, STACKONE_ENABLED_PROVIDERS=value, ACCOUNT_LIMITS="hibob=1")
    assert len(lines) == 1 and lines[0].startswith("gunicorn: refusing to start: STACKONE_ENABLED_PROVIDERS")
    assert "separated by commas" in lines[0] and "ACCOUNT_LIMITS" not in lines[0]


@pytest.mark.parametrize("key", [KEY + "\u00a0", "\u00a0" + KEY, KEY + "\u2003", KEY + "\u3000"])
def test_a_key_with_a_unicode_space_at_an_end_refuses_in_one_line(tmp_path, key):
    lines = refused(tmp_path, STACKONE_API_KEY=key)
    assert len(lines) == 1 and lines[0].startswith("gunicorn: refusing to start: STACKONE_API_KEY has a space")
    assert KEY not in lines[0]


@pytest.mark.parametrize("key", [KEY + "\n", KEY + " ", "\t" + KEY + "\r\n"])
def test_ascii_whitespace_a_shell_or_env_file_leaves_is_stripped(env, key):
    from config import Settings

    assert Settings.from_env({**env, "STACKONE_API_KEY": key}).stackone.api_key == KEY


def test_a_mistyped_setting_starts_with_one_warning_naming_the_setting_meant(tmp_path):
    log = tmp_path / "gunicorn.log"
    env = service_env(tmp_path, ACCOUNT_LIMIT="total=3", STACKONE_TIMEOUTS="7",
                      # Other programs' variables, even under prefixes close to ours, are no concern of ours.
                      FLASK_APP="app", REDIS_HOST="cache", GUNICORN_CMD_ARGS="--log-level info", LOG_DIR="/tmp",
                      SANDBOX_PORT="8001", STACKONE_TESTS_REQUIRE_ALL="1")
    process = start(["-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], env, log)
    try:
        wait_until_up(f"http://{env['BIND']}/healthz", process)
    finally:
        stop(process)
    text = log.read_text()
    warnings = [line for line in text.splitlines() if "is not a setting of this service" in line]
    assert len(warnings) == 2 and all("WARNING" in line for line in warnings)
    assert "ACCOUNT_LIMIT is not a setting of this service and is ignored; did you mean ACCOUNT_LIMITS?" in warnings[0]
    assert "did you mean STACKONE_TIMEOUT?" in warnings[1]
    assert "total=3" not in text  # a value is never printed: it might be a secret set under the wrong name


def test_every_documented_variable_is_known_and_every_known_one_documented():
    page = (ROOT / "docs" / "configuration.md").read_text()
    documented = {name for row in page.splitlines() if row.startswith("| `")
                  for name in re.findall(r"`([A-Z][A-Z0-9_]+)`", row.split("|")[1])}
    assert documented == KNOWN_SETTINGS - {"STACKONE_CONNECT_GUNICORN_MASTER"}
    assert unknown_settings({name: "x" for name in KNOWN_SETTINGS}) == []


def test_an_api_url_with_v1_is_a_502_naming_it_logged_once_and_not_ready(tmp_path):
    """STACKONE_API_URL=https://…/v1: StackOne (the sandbox) answers "Cannot GET /v1/connectors/meta"."""
    with running_sandbox(tmp_path, KEY) as sandbox_url, gunicorn_stack(
            tmp_path, key=KEY, sandbox_url=f"{sandbox_url}/v1", LOG_FORMAT="text") as stack:
        url = stack.url
        assert requests.get(f"{url}/readyz", timeout=5).status_code == 200  # nothing has proved it wrong yet
        answers = [requests.post(f"{url}{path}", json={"provider": "hibob"}, headers=bearer(), timeout=10)
                   for path in ("/stackone_connect_sessions", "/stackone_auth_links", "/stackone_connect_sessions")]
        listed = requests.get(f"{url}/stackone_accounts", headers=bearer(), timeout=10)
        ready = requests.get(f"{url}/readyz", timeout=5)
    log = stack.log
    for answer in [*answers, listed]:
        assert (answer.status_code, answer.json()["code"]) == (502, "stackone_misconfigured")
        assert "STACKONE_API_URL" in answer.json()["detail"] and "Cannot" not in answer.json()["detail"]
    assert ready.status_code == 503 and "STACKONE_API_URL" in ready.json()["reason"]
    errors = [line for line in log.read_text().splitlines() if "STACKONE_API_URL=" in line]
    assert 1 <= len(errors) <= 2 and all(" ERROR " in line for line in errors)  # once per worker process, at most


def test_a_404_that_means_not_found_stays_not_found_unless_the_route_is_missing(stackone):
    from errors import AccountNotFound, StackOneMisconfigured
    from stackone.client import StackOneClient
    from tests.helpers import API, API_KEY

    seen = []
    client = StackOneClient(API, API_KEY, timeout=2, on_wrong_url=seen.append)
    stackone.get(f"{API}/accounts/acc-1", status=404, json={"statusCode": 404, "message": "Account not found"})
    stackone.get(f"{API}/accounts/acc-2", status=404,
                 json={"statusCode": 404, "message": "Cannot GET /v1/accounts/acc-2"})
    stackone.post(f"{API}/connect_sessions", status=404, json={"statusCode": 404, "message": "Account not found"})
    stackone.get(f"{API}/connectors/meta", status=404, json={"statusCode": 404, "message": "Not found"})
    assert client.get_account("acc-1") is None
    with pytest.raises(AccountNotFound):
        client.create_connect_session({"origin_owner_id": "o", "origin_owner_name": "O", "account_id": "acc-1"})
    for call in (lambda: client.get_account("acc-2"), client.connectors):
        with pytest.raises(StackOneMisconfigured):
            call()
    assert seen == ["GET /accounts/acc-2", "GET /connectors/meta"]


def test_readiness_forgets_a_wrong_url_once_restarted_with_another(env, stackone):
    from app import create_app
    from tests.helpers import API

    stackone.get(f"{API}/connectors/meta", status=404,
                 json={"statusCode": 404, "message": "Cannot GET /v1/connectors/meta"})
    env.pop("STACKONE_ENABLED_PROVIDERS")
    wrong = create_app({**env}).test_client()
    assert wrong.post("/stackone_connect_sessions", json={"provider": "hibob"}, headers=bearer()).status_code == 502
    assert wrong.get("/readyz").status_code == 503
    fixed = create_app({**env, "STACKONE_API_URL": "https://api.stackone.test"}).test_client()  # same state folder
    assert fixed.get("/readyz").status_code == 200


def test_a_setting_exported_in_the_test_runners_shell_reaches_no_started_gunicorn(tmp_path, monkeypatch):
    """ACCOUNT_LIMITS=total=1 in a developer's shell would refuse the second session below (caps count the pending
    sessions too): the processes the tests start are cleared of the same list as the in-process tests."""
    monkeypatch.setenv("ACCOUNT_LIMITS", "total=1")
    with gunicorn_stack(tmp_path, key=KEY) as stack:
        minted = [requests.post(f"{stack.url}/stackone_connect_sessions", json={"provider": provider},
                                headers=bearer(), timeout=10) for provider in ("hibob", "bamboohr")]
    assert [answer.status_code for answer in minted] == [200, 200], minted[-1].text
