"""Start the sandbox and gunicorn as real processes on loopback ports, for the end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from serving.unknown_settings import KNOWN_SETTINGS, OUR_PREFIXES
from tests.externals import REQUIRED_ENV
from tests.helpers import JWT_SECRET

ROOT = Path(__file__).resolve().parent.parent
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


@contextmanager
def running_sandbox(folder: Path, api_key: str, **env: str) -> Iterator[str]:
    """The sandbox on a free loopback port with this API key (and SANDBOX_* settings); its URL, stopped after."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(["-m", "sandbox", "--port", str(port)], {"SANDBOX_API_KEY": api_key, **env},
                    folder / "sandbox.log")
    try:
        wait_until_up(f"{url}/sandbox/calls", process)
        yield url
    finally:
        stop(process)


def sandbox_accounts(url: str, api_key: str, page_size: int = 40) -> list[dict]:
    """Every account of the sandbox's project, read page by page as a client of its API would (to an empty page)."""
    found, page = [], 1
    while batch := requests.get(f"{url}/accounts", params={"page_size": page_size, "page": page},
                                auth=(api_key, ""), timeout=30).json():
        found += batch
        page += 1
    return found


@dataclass(frozen=True)
class Stack:
    """A started gunicorn (and the sandbox it calls): what the end-to-end tests use."""

    url: str  # the service, http://127.0.0.1:<port>
    sandbox_url: str | None  # None when started without a sandbox
    log: Path  # gunicorn's output
    process: subprocess.Popen  # gunicorn's master
    folder: Path


@contextmanager
def gunicorn_stack(folder: Path, *, key: str, name: str = "gunicorn", port: int | None = None,
                   sandbox: bool = True, sandbox_url: str | None = None, sandbox_webhook_secret: str | None = None,
                   **env: str | None) -> Iterator[Stack]:
    """The sandbox with API key `key` and gunicorn (our gunicorn.conf.py) in front of it, on free loopback ports.

    gunicorn gets 2 workers, login JWTs with tests.helpers' secret, StackOne at the sandbox and a state folder of
    its own, each replaced by `env` (None drops one). `sandbox_url` points it at a sandbox already running (one
    shared by two hosts) instead; `sandbox=False` starts none (`env` then says where StackOne is).
    `sandbox_webhook_secret` has the sandbox sign account webhooks with it and deliver them to this gunicorn.
    Its log is folder/<name>.log; everything started is stopped after.
    """
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    with ExitStack() as running:
        if sandbox and sandbox_url is None:
            delivery = ({"SANDBOX_WEBHOOK_SECRET": sandbox_webhook_secret,
                         "SANDBOX_WEBHOOK_URL": f"{url}/stackone_webhooks"} if sandbox_webhook_secret else {})
            sandbox_url = running.enter_context(running_sandbox(folder, key, **delivery))
        settings = {"WEB_CONCURRENCY": "2", "OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": JWT_SECRET,
                    "STACKONE_API_KEY": key, "STATE_DIR": str(folder / f"{name}-state"),
                    **({"STACKONE_API_URL": sandbox_url} if sandbox_url else {}), **env, "BIND": f"127.0.0.1:{port}"}
        log = folder / f"{name}.log"
        process = start(["-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
                        {k: v for k, v in settings.items() if v is not None}, log)
        running.callback(stop, process)
        wait_until_up(f"{url}/healthz", process)
        yield Stack(url, sandbox_url, log, process, folder)


@contextmanager
def gunicorn_hosts(folder: Path, ports: tuple[int, ...], **stack: str | None) -> Iterator[list[Stack]]:
    """One gunicorn_stack per port (hosts of one fleet: give them one sandbox_url), logs gunicorn-<port>.log."""
    with ExitStack() as running:
        yield [running.enter_context(gunicorn_stack(folder, name=f"gunicorn-{port}", port=port, **stack))
               for port in ports]
