"""Benchmark: latency and throughput of POST /stackone_connect_sessions through gunicorn, against the sandbox.

Compares each request with the two sandbox calls it makes (GET /accounts, POST /connect_sessions) done directly,
so the difference is the service's own overhead. Loopback only; bounded in requests and time.
Run with `make bench`.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.provider_cost import NEVER_REACHED  # noqa: E402
from support.logins import JWT_SECRET, login  # noqa: E402
from support.processes import free_port, start, stop, wait_until_up  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "2000"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
TIME_CAP = 120  # seconds per phase, whatever REQUESTS says
KEY = "v1.sandbox.bench_key_0123456789"


def run_phase(name: str, one_request) -> dict:
    """Send REQUESTS requests from CONCURRENCY threads; return latency percentiles and throughput."""
    deadline = time.monotonic() + TIME_CAP
    latencies: list[float] = []

    def worker(count: int) -> None:
        session = requests.Session()
        for _ in range(count):
            if time.monotonic() > deadline:
                return
            t0 = time.perf_counter()
            one_request(session)
            latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        list(pool.map(worker, [REQUESTS // CONCURRENCY] * CONCURRENCY))
    elapsed = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    result = {"name": name, "n": len(latencies), "rps": len(latencies) / elapsed,
              "p50": q[49] * 1000, "p95": q[94] * 1000, "p99": q[98] * 1000}
    print(f"{name:<34} n={result['n']:<5} {result['rps']:7.0f} req/s   p50 {result['p50']:6.2f} ms   "
          f"p95 {result['p95']:6.2f} ms   p99 {result['p99']:6.2f} ms")
    return result


def rss_mib(pid: int) -> float:
    """Resident memory of one process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_pids(master: int) -> list[int]:
    """gunicorn's worker processes (children of the master)."""
    children = Path(f"/proc/{master}/task/{master}/children")
    return [int(p) for p in children.read_text().split()] if children.exists() else []


def main() -> None:
    """Start the sandbox and gunicorn, measure the direct calls and the service, print figures."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-"))
    sandbox_port, service_port = free_port(), free_port()
    sandbox_url, service_url = f"http://127.0.0.1:{sandbox_port}", f"http://127.0.0.1:{service_port}"
    sandbox = start(["-m", "sandbox", "--port", str(sandbox_port)], {"SANDBOX_API_KEY": KEY}, tmp / "sandbox.log")
    service = start(["-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], {
        "BIND": f"127.0.0.1:{service_port}", "STACKONE_API_KEY": KEY, "STACKONE_API_URL": sandbox_url,
        "OWNER_AUTH": "jwt", "OWNER_RATE_LIMIT": "", "OWNER_JWT_SECRET": JWT_SECRET, "STATE_DIR": str(tmp / "state"),
        "GUNICORN_ACCESSLOG": "", "LOG_LEVEL": "WARNING", "STACKONE_RATE_LIMIT": NEVER_REACHED,
    }, tmp / "gunicorn.log")
    try:
        wait_until_up(f"{sandbox_url}/sandbox/calls", sandbox)
        wait_until_up(f"{service_url}/healthz", service)
        headers = {"Authorization": f"Bearer {login(org_id='org-bench', org_name='Bench Ltd')}"}
        print(f"{REQUESTS} requests, {CONCURRENCY} concurrent clients, {os.cpu_count()} cores; "
              f"gunicorn {os.environ.get('WEB_CONCURRENCY') or os.cpu_count()} gevent workers\n")

        def direct(session):
            session.get(f"{sandbox_url}/accounts", auth=(KEY, ""), timeout=10,
                        params={"origin_owner_id": "org-bench", "providers": "bamboohr", "page": 1,
                                "page_size": 100}).raise_for_status()
            session.post(f"{sandbox_url}/connect_sessions", auth=(KEY, ""), timeout=10, json={
                "origin_owner_id": "org-bench", "origin_owner_name": "Bench Ltd",
                "provider": "bamboohr"}).raise_for_status()

        def through_service(session):
            r = session.post(f"{service_url}/stackone_connect_sessions", json={"provider": "bamboohr"},
                             headers=headers, timeout=10)
            assert r.status_code == 200, r.text

        def refused(session):
            r = session.post(f"{service_url}/stackone_connect_sessions", json={"originOwnerId": "x"},
                             headers=headers, timeout=10)
            assert r.status_code == 400

        run_phase("sandbox directly (2 calls)", direct)
        run_phase("POST /stackone_connect_sessions", through_service)
        run_phase("refused (owner field, no upstream)", refused)
        rss = [rss_mib(pid) for pid in worker_pids(service.pid)]
        print(f"\ngunicorn worker RSS after the run: {', '.join(f'{r:.1f} MiB' for r in rss)}")
    finally:
        stop(service)
        stop(sandbox)


if __name__ == "__main__":
    main()
