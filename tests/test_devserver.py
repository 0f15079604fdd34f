"""`make run`'s launcher: it refuses a busy port before starting anything, and says why the demo is skipped."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

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


def children_of(pid: int) -> list[int]:
    """The processes whose parent is pid (read from /proc): make run's sandbox, gunicorn and demo page."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


@pytest.fixture
def make_run(tmp_path):
    """`make run` (devserver.py) in its own process group, as a terminal's foreground job; whatever it started is
    stopped when the test ends, passed or failed: each child leads a session of its own, which the group's SIGKILL
    would not reach."""
    ports = {"PORT": free_port(), "SANDBOX_PORT": free_port(), "DEMO_PAGE_PORT": free_port()}
    temp = tmp_path / "tmp"
    temp.mkdir()
    log = tmp_path / "run.log"
    with open(log, "wb") as out:
        # SIGINT back to its default in the child: under nohup, `&` or a CI runner it may arrive ignored, and an
        # ignored SIGINT is inherited, so Python would install no KeyboardInterrupt for Ctrl-C.
        run = subprocess.Popen([sys.executable, "devserver.py"], cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                               env={"PATH": "/usr/bin:/bin", "TMPDIR": str(temp),
                                    **{k: str(v) for k, v in ports.items()}},
                               start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        yield run, ports, log, temp
    finally:
        if run.poll() is None:
            started = children_of(run.pid)
            run.terminate()  # devserver.py stops its children on SIGTERM
            try:
                run.wait(20)
            except subprocess.TimeoutExpired:
                for child in started:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(child, signal.SIGKILL)
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()


def wait_for_banner(log: Path, seconds: float = 40) -> str:
    deadline = time.monotonic() + seconds
    while b"Ctrl-C stops" not in log.read_bytes() and time.monotonic() < deadline:
        time.sleep(0.2)
    return log.read_text()


def test_ctrl_c_ends_make_run_quietly_even_with_keep_alive_connections_open(make_run):
    run, ports, log, temp = make_run
    assert "Ctrl-C stops" in wait_for_banner(log)
    assert any(p.name.startswith("stackone-connect-demo-") for p in temp.iterdir())
    with socket.create_connection(("127.0.0.1", ports["PORT"])) as held:
        held.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")  # answered, and kept alive
        held.settimeout(5)
        assert held.recv(100).startswith(b"HTTP/1.1 200")
        os.killpg(run.pid, signal.SIGINT)
        assert run.wait(40) == 0
    text = log.read_text()
    assert "Traceback" not in text and "SystemExit" not in text
    # The demo's state folder (its sessions, caps, events) goes with it: nothing of the run is left in TMPDIR.
    assert [p.name for p in temp.iterdir() if p.name.startswith("stackone-connect-demo-")] == []
