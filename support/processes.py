"""Start processes (the sandbox, gunicorn, stand-ins) on loopback ports with a clean environment, and stop them."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from serving.unknown_settings import KNOWN_SETTINGS, OUR_PREFIXES

ROOT = Path(__file__).resolve().parent.parent
REQUIRED_ENV = "STACKONE_TESTS_REQUIRE_ALL"  # the suite's switch: in CI a missing program fails its tests
# Beside the service's own settings and prefixes (a typo under one draws a warning), the variables of the other
# programs the tests start or load: Flask, the sandbox, the example app, `make run`, Redis clients, logging,
# prometheus_client's multiprocess folder and gunicorn's own (GUNICORN_CMD_ARGS).
OTHER_PROGRAMS = ("FLASK_", "SANDBOX_", "EXAMPLE_", "DEMO_", "REDIS_", "LOG_", "SERVICE_", "PROMETHEUS_", "GUNICORN_")


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def wait_until_up(url: str, process: subprocess.Popen, seconds: float = 30) -> None:
    """Poll url until it answers, failing fast if the process died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before {url} answered")
        try:
            requests.get(url, timeout=2)
            return
        except (requests.ConnectionError, requests.Timeout):
            # Refused, or accepted by gunicorn's listening socket before a worker has booted to answer it.
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds}s")


def cleared(name: str) -> bool:
    """Whether the tests clear this variable: one of the service's settings or another program's it starts.

    The one list, for the in-process tests (conftest.py) and every process started here; the suite's own switch
    (STACKONE_TESTS_REQUIRE_ALL, read by tests/externals.py) stays.
    """
    return name != REQUIRED_ENV and (name in KNOWN_SETTINGS or name.startswith(OUR_PREFIXES + OTHER_PROGRAMS))


def clean_environment() -> dict[str, str]:
    """This process's environment without any of the service's settings (a developer's shell changes nothing)."""
    return {k: v for k, v in os.environ.items() if not cleared(k)}


def start(args: list[str], env: dict[str, str], log: Path, runner: tuple[str, ...] = (),
          cwd: Path = ROOT) -> subprocess.Popen:
    """Start a process (from the project folder unless told) with a clean-ish environment, output to a log file.

    `runner` goes before the interpreter (the bench runs workers under valgrind that way).
    """
    handle = open(log, "wb")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([*runner, sys.executable, *args], cwd=cwd, env={**clean_environment(), **env},
                            stdout=handle, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen) -> None:
    """Terminate, then kill if it lingers."""
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
