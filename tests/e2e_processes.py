"""Start the sandbox and gunicorn as real processes on loopback ports, for the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

# The process helpers live in support/ (the bench uses them too); their names stay importable from here.
from support.processes import ROOT, clean_environment, free_port, start, stop, wait_until_up

__all__ = ["ROOT", "clean_environment", "free_port", "running_sandbox", "sandbox_accounts", "start", "stop",
           "wait_until_up"]


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
