"""`make run`'s launcher: it refuses a busy port before starting anything, and says why the demo is skipped."""

from __future__ import annotations

import socket
import subprocess
import sys

from tests.e2e_processes import ROOT, free_port


def devserver(**env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "devserver.py"], cwd=ROOT, capture_output=True, text=True, timeout=30,
                          env={"PATH": "/usr/bin:/bin", **env})


def test_a_busy_port_is_refused_before_anything_starts():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = devserver(PORT=str(port), SANDBOX_PORT=str(free_port()))
    assert result.returncode == 1
    assert f"port {port} is already in use" in result.stderr and "DEMO MODE" not in result.stdout


def test_a_busy_sandbox_port_is_refused_too():
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        result = devserver(PORT=str(free_port()), SANDBOX_PORT=str(port))
    assert result.returncode == 1 and f"port {port} is already in use" in result.stderr


def test_an_unknown_demo_login_mode_is_refused():
    result = devserver(OWNER_AUTH="saml", PORT=str(free_port()), SANDBOX_PORT=str(free_port()))
    assert result.returncode == 1 and "OWNER_AUTH must be jwt or flask-session" in result.stderr


def test_with_an_api_key_it_says_the_demo_is_skipped():
    # gunicorn then starts against the configured StackOne and refuses: OWNER_AUTH is missing.
    result = devserver(STACKONE_API_KEY="v1.x.key_0123456789", PORT=str(free_port()), STATE_DIR="/tmp/x-devserver")
    assert "the demo (local sandbox, demo login) is skipped" in result.stderr
    assert result.returncode != 0 and "refusing to start" in result.stderr


def test_a_mistyped_worker_count_is_refused_in_one_line_before_gunicorn_reads_it():
    result = devserver(WEB_CONCURRENCY="two")
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 1 and len(lines) == 1 and "WEB_CONCURRENCY" in lines[0]
