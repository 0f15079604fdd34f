"""The metrics listener against a real gunicorn started the ordinary ways: -b, --bind, BIND, an operator's own
config file, from another folder; told by its socket, never by a header; serving the scrape and nothing else."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import requests

from tests.e2e_processes import ROOT, clean_environment, free_port, start, stop, wait_until_up
from tests.helpers import JWT_SECRET, bearer

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.listener_key_0123456789"
CONFIG = str(ROOT / "gunicorn.conf.py")


def service_env(tmp_path, **extra) -> dict[str, str]:
    # StackOne at a closed port: nothing below may reach it, and a call that did would be a 502, not a 404.
    return {"WEB_CONCURRENCY": "1", "LOG_FORMAT": "text", "STACKONE_API_KEY": KEY,
            "STACKONE_API_URL": f"http://127.0.0.1:{free_port()}", "OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": JWT_SECRET,
            "STATE_DIR": str(tmp_path / "state"), "TRUSTED_PROXY_COUNT": "1", **extra}


def from_elsewhere(args: list[str], env: dict[str, str], tmp_path, timeout: float = 30) -> subprocess.CompletedProcess:
    """Run gunicorn to completion from a folder of its own (it is expected to refuse)."""
    return subprocess.run([sys.executable, "-m", "gunicorn", *args], cwd=tmp_path, env={**clean_environment(), **env},
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module", params=["-b", "--bind", "BIND"])
def split_listeners(request, tmp_path_factory):
    """Public 127.0.0.1:P and metrics 127.0.0.2:P (one port number, two addresses), however the bind is given; one
    gunicorn per way, shared by the tests that use it."""
    tmp_path = tmp_path_factory.mktemp("split")
    port = free_port()
    public, metrics = f"127.0.0.1:{port}", f"127.0.0.2:{port}"
    env = service_env(tmp_path, METRICS_BIND=metrics)
    bind = []
    if request.param == "BIND":
        env["BIND"] = public
    else:
        bind = [request.param, public]
    process = start(["-m", "gunicorn", "-c", CONFIG, "--chdir", str(ROOT), *bind, "wsgi:app"], env,
                    tmp_path / "gunicorn.log", cwd=tmp_path)
    try:
        wait_until_up(f"http://{public}/healthz", process)
        wait_until_up(f"http://{metrics}/healthz", process)
        yield f"http://{public}", f"http://{metrics}", port
    finally:
        stop(process)


def test_the_scrape_answers_on_the_metrics_address_only(split_listeners):
    public, metrics, port = split_listeners
    requests.get(f"{public}/healthz", timeout=5)
    scrape = requests.get(f"{metrics}/metrics", timeout=5)
    assert scrape.status_code == 200 and scrape.headers["Content-Type"].startswith("text/plain")
    assert "http_requests_total" in scrape.text
    # Same port number, other address; then every header a client could forge to look like the metrics listener.
    for headers in ({}, {"X-Forwarded-Host": f"x:{port}"}, {"Host": f"127.0.0.2:{port}"},
                    {"X-Forwarded-Host": f"127.0.0.2:{port}", "X-Forwarded-Port": str(port)}):
        refused = requests.get(f"{public}/metrics", headers=headers, timeout=5)
        assert (refused.status_code, refused.headers["Content-Type"]) == (404, "application/problem+json"), headers
        assert "http_requests_total" not in refused.text


def test_the_metrics_listener_does_not_serve_the_api(split_listeners):
    _, metrics, _ = split_listeners
    minted = requests.post(f"{metrics}/stackone_connect_sessions", json={}, headers=bearer(), timeout=5)
    assert (minted.status_code, minted.headers["Content-Type"]) == (404, "application/problem+json")
    for path in ("/stackone_accounts", "/openapi.json", "/readyz", "/stackone_static/stackone-connect.js"):
        assert requests.get(f"{metrics}{path}", headers=bearer(), timeout=5).status_code == 404, path
    assert requests.get(f"{metrics}/healthz", timeout=5).json() == {"status": "ok"}


def test_an_operators_own_config_file_that_imports_our_settings_keeps_the_metrics_listener(tmp_path):
    own = tmp_path / "ops.conf.py"
    own.write_text("from serving.gunicorn_settings import *  # noqa\nworkers = 1\nloglevel = 'info'\n")
    port, metrics_port = free_port(), free_port()
    env = service_env(tmp_path, METRICS_BIND=f"127.0.0.1:{metrics_port}")
    process = start(["-m", "gunicorn", "-c", str(own), "-b", f"127.0.0.1:{port}", "wsgi:app"], env,
                    tmp_path / "gunicorn.log")
    try:
        wait_until_up(f"http://127.0.0.1:{metrics_port}/healthz", process)
        assert requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).status_code == 200
        assert requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 404
    finally:
        stop(process)


def test_gunicorn_without_our_settings_refuses_in_one_line_saying_how_to_start(tmp_path):
    port = free_port()
    run = from_elsewhere(["--chdir", str(ROOT), "-b", f"127.0.0.1:{port}", "wsgi:app"],
                         service_env(tmp_path, METRICS_BIND=f"127.0.0.1:{free_port()}", LOG_FORMAT="json"), tmp_path)
    assert run.returncode != 0
    refusals = [line for line in (run.stdout + run.stderr).splitlines() if "refusing to start" in line]
    assert len(refusals) == 1 and f"gunicorn -c {CONFIG} wsgi:app" in json.loads(refusals[0])["message"]
    assert "Traceback" not in run.stdout + run.stderr


def test_a_metrics_bind_that_is_also_the_public_listener_refuses_to_start(tmp_path):
    bind = f"127.0.0.1:{free_port()}"
    run = from_elsewhere(["-c", CONFIG, "--chdir", str(ROOT), "-b", bind, "wsgi:app"],
                         service_env(tmp_path, METRICS_BIND=bind), tmp_path)
    assert run.returncode == 1
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert lines[-1] == (f"gunicorn: refusing to start: METRICS_BIND={bind} is also a public listener "
                         "(-b/--bind/BIND): give the metrics listener an address of its own")
    assert "Listening at" not in run.stderr and "Traceback" not in run.stderr


# WEB_CONCURRENCY is not here: gunicorn itself reads it while importing its own settings, before any config file
# (a mistyped one is gunicorn's ValueError, which no setting of ours can reach); `make run` checks it first.
@pytest.mark.parametrize("name", ["GUNICORN_TIMEOUT", "GUNICORN_KEEPALIVE", "GUNICORN_WORKER_CONNECTIONS",
                                  "GUNICORN_GRACEFUL_TIMEOUT", "BODY_READ_TIMEOUT"])
@pytest.mark.parametrize("value", ["5s", "two"])
def test_a_mistyped_gunicorn_setting_refuses_in_one_line_naming_it(tmp_path, name, value):
    run = from_elsewhere(["-c", CONFIG, "--chdir", str(ROOT), "-b", f"127.0.0.1:{free_port()}", "wsgi:app"],
                         {**service_env(tmp_path), name: value}, tmp_path)
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert run.returncode == 1 and len(lines) == 1 and name in lines[0] and "Traceback" not in run.stderr


def test_with_json_logs_every_line_of_a_run_is_json_the_masters_too(tmp_path):
    port = free_port()
    log = tmp_path / "gunicorn.log"
    process = start(["-m", "gunicorn", "-c", CONFIG, "--chdir", str(ROOT), "-b", f"127.0.0.1:{port}", "wsgi:app"],
                    service_env(tmp_path, LOG_FORMAT="json", WEB_CONCURRENCY="2"), log, cwd=tmp_path)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/healthz", process)
        requests.get(f"http://127.0.0.1:{port}/nowhere", timeout=5)
        process.terminate()
        process.wait(60)  # its own shutdown, however loaded the machine: the last line is the master's
    finally:
        stop(process)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    messages = [json.loads(line)["message"] for line in lines]  # each line parses, or this raises
    assert any(m.startswith("Starting gunicorn") for m in messages) and any("Listening at" in m for m in messages)
    assert any("Shutting down" in m for m in messages)


def test_another_worker_class_refuses_in_one_line(tmp_path):
    run = from_elsewhere(["-c", CONFIG, "--chdir", str(ROOT), "-b", f"127.0.0.1:{free_port()}", "-k", "sync",
                          "wsgi:app"], service_env(tmp_path), tmp_path)
    lines = [line for line in run.stderr.splitlines() if "refusing to start" in line]
    assert run.returncode == 1 and len(lines) == 1 and "serving.worker.ServiceWorker" in lines[0]
    assert "Booting worker" not in run.stderr
