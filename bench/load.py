"""Load for `make bench`: wrk when installed (C, so the load generator barely competes for the cores), else Python.

Both send the same POST body for a fixed time from `concurrency` keep-alive clients, each request with the next of
the given header sets (so a run can stand for many owners, each with their own login), and report what was answered.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import requests

WRK = shutil.which("wrk")
GENERATOR = "wrk" if WRK else "Python (requests, one thread per client)"


@dataclass
class Result:
    """What one load run got back."""

    answered: int
    seconds: float
    p50: float  # seconds
    failed: int  # answers other than 2xx, and socket errors

    @property
    def rps(self) -> float:
        """Answers per second."""
        return self.answered / self.seconds


def post(url: str, body: dict, headers: list[dict], concurrency: int, seconds: float,
         verify: str | None = None) -> Result:
    """POST body to url from `concurrency` clients for `seconds`, each request with the next of `headers`."""
    if WRK:
        return _wrk(url, body, headers, concurrency, seconds)
    return _python(url, body, headers, concurrency, seconds, verify)


def _wrk(url: str, body: dict, headers: list[dict], concurrency: int, seconds: float) -> Result:
    sets = ", ".join("{" + ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in h.items()) + "}"
                     for h in headers)
    lines = ['wrk.method = "POST"', f"wrk.body = {json.dumps(json.dumps(body))}",
             'wrk.headers["Content-Type"] = "application/json"', f"local sets = {{{sets}}}", "local i = 0",
             "local threads = 0",
             # Each wrk thread starts at another place in the rotation, so that a run covers every header set.
             'function setup(thread) thread:set("offset", threads); threads = threads + 1 end',
             'function init(args) i = (tonumber(wrk.thread:get("offset")) or 0) * 997 % #sets end',
             "request = function()", "  i = i % #sets + 1",
             "  local h = {}", "  for k, v in pairs(wrk.headers) do h[k] = v end",
             "  for k, v in pairs(sets[i]) do h[k] = v end",
             "  return wrk.format(nil, nil, h, wrk.body)", "end"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write("\n".join(lines) + "\n")
    try:
        threads = min(2, concurrency)
        out = subprocess.run([WRK, f"-t{threads}", f"-c{concurrency}", f"-d{seconds:g}s", "--timeout", "30s",
                              "--latency", "-s", script.name, url], capture_output=True, text=True, check=True,
                             timeout=seconds + 60).stdout
    finally:
        Path(script.name).unlink()
    done = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    answered, elapsed = int(done.group(1)), float(done.group(2)) / (1000 if done.group(3) == "ms" else 1)
    failed = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed += sum(int(n) for n in errors.groups()) if errors else 0
    return Result(answered, elapsed, _wrk_time(re.search(r"50%\s+([\d.]+\w+)", out).group(1)), failed)


def _wrk_time(text: str) -> float:
    """wrk's 1.23ms / 456.00us / 1.20s, in seconds."""
    number, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(number) * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def _python(url: str, body: dict, headers: list[dict], concurrency: int, seconds: float,
            verify: str | None) -> Result:
    latencies: list[float] = []
    rotation = itertools.cycle(headers)
    failed = [0]
    until = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        session.trust_env = False  # else REQUESTS_CA_BUNDLE overrides verify (requests#3829)
        session.verify = verify or True
        while time.monotonic() < until:
            began = time.perf_counter()
            try:
                ok = session.post(url, json=body, headers=next(rotation), timeout=30).ok
            except requests.RequestException:
                ok = False
            latencies.append(time.perf_counter() - began)
            failed[0] += not ok

    began = time.perf_counter()
    clients = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    return Result(len(latencies), time.perf_counter() - began, statistics.median(latencies), failed[0])
