"""Benchmark: how /healthz fares while N slow clients hold half-sent requests, gthread (2x8) beside our gevent worker.

Each slow client sends a request line and then trickles a header line, or sends headers and then trickles a body,
one piece every 0.5 s, reconnecting when the server closes it. Loopback only; bounded in clients and time.
Run with `make bench`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from support.logins import JWT_SECRET  # noqa: E402
from support.processes import free_port, start, stop, wait_until_up  # noqa: E402
from support.slow_clients import hold_slow_clients  # noqa: E402

HOLD_SECONDS = float(os.environ.get("BENCH_HOLD_SECONDS", "10"))
CLIENTS = [int(n) for n in os.environ.get("BENCH_SLOW_CLIENTS", "16,40,400").split(",")]
MODELS = {"gthread 2x8": ["-k", "gthread", "--threads", "8"], "gevent (ours)": []}


def probe(port: int, count: int) -> str:
    """Hold `count` slow clients and time /healthz every 0.2 s meanwhile."""
    until = time.monotonic() + HOLD_SECONDS
    threads = hold_slow_clients(port, count, until)
    time.sleep(1)
    latencies, failures = [], 0
    while time.monotonic() < until - 0.5:
        began = time.monotonic()
        try:
            requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).raise_for_status()
            latencies.append(time.monotonic() - began)
        except requests.RequestException:
            failures += 1
        time.sleep(0.2)
    for thread in threads:
        thread.join(10)
    if not latencies:
        return f"{count:>4} slow clients: every /healthz failed ({failures})"
    return (f"{count:>4} slow clients: /healthz ok {len(latencies):>3}, failed {failures:>3}, "
            f"p50 {statistics.median(latencies) * 1000:7.1f} ms, max {max(latencies) * 1000:7.1f} ms")


def main() -> None:
    """Run each worker model in turn against the same slow-client loads."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-slow-"))
    for name, args in MODELS.items():
        port = free_port()
        # The bench's own settings file obeys -k (the service's refuses any worker but its own).
        service = start(["-m", "gunicorn", "-c", "bench/worker_models.py", *args, "wsgi:app"], {
            "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "STACKONE_API_KEY": "v1.bench.key_0123456789",
            "STACKONE_API_URL": "http://127.0.0.1:9", "OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": JWT_SECRET,
            "STATE_DIR": str(tmp / "state"), "STACKONE_WEBHOOK_SECRETS": "whsec_bench_0123456789",
            "GUNICORN_ACCESSLOG": "", "LOG_LEVEL": "WARNING",
        }, tmp / f"{name.split()[0]}.log")
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz", service)
            print(f"{name}:")
            for count in CLIENTS:
                print("  " + probe(port, count), flush=True)
        finally:
            stop(service)


if __name__ == "__main__":
    main()
