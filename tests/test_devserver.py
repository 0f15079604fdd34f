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


def test_ctrl_c_ends_make_run_quietly_even_with_keep_alive_connections_open(tmp_path):
    import os
    import signal
    import socket
    import time

    from tests.e2e_processes import free_port

    ports = {"PORT": free_port(), "SANDBOX_PORT": free_port(), "DEMO_PAGE_PORT": free_port()}
    out = open(tmp_path / "run.log", "wb")  # noqa: SIM115 - closed below
    # Its own process group, as a terminal's foreground job: Ctrl-C is SIGINT to the whole group.
    run = subprocess.Popen([sys.executable, "devserver.py"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                           env={"PATH": "/usr/bin:/bin", **{k: str(v) for k, v in ports.items()}},
                           start_new_session=True)
    try:
        deadline = time.monotonic() + 40
        while b"Ctrl-C stops" not in (tmp_path / "run.log").read_bytes() and time.monotonic() < deadline:
            time.sleep(0.2)
        held = socket.create_connection(("127.0.0.1", ports["PORT"]))
        held.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # answered, and kept alive
        time.sleep(0.5)
        os.killpg(run.pid, signal.SIGINT)
        assert run.wait(40) == 0
        held.close()
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
        out.close()
    log = (tmp_path / "run.log").read_text()
    assert "Ctrl-C stops" in log and "Traceback" not in log and "SystemExit" not in log
