"""Start the sandbox and gunicorn as real processes on loopback ports, for the end-to-end tests."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

# The process helpers live in support/ (the bench uses them too); their names stay importable from here.
from support.processes import ROOT, clean_environment, cleared, free_port, start, stop, wait_until_up
from tests.helpers import JWT_SECRET

__all__ = ["ROOT", "clean_environment", "cleared", "free_port", "gunicorn_hosts", "gunicorn_stack", "running_sandbox",
           "sandbox_accounts", "start", "stop", "wait_until_up"]


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
