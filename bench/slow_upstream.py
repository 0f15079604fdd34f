"""Benchmark: StackOne (a TLS stand-in) answering in 2 s, 64 callers for 20 s against this service: how many waited
past REQUEST_DEADLINE (and past it + 0.5 s), and the worst wait. Loopback only; bounded in time. Run with `make bench`
(bench/deadline_reuse.py runs it again with one owner's identical requests and reuse on).
"""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.provider_cost import NEVER_REACHED  # noqa: E402
from bench.tls_standin import KEY, certificate, start_standin  # noqa: E402
from support.logins import JWT_SECRET, login  # noqa: E402
from support.processes import free_port, start, stop, wait_until_up  # noqa: E402


def slow_upstream(folder: Path, cert: str, key: str, headers: dict, *, env: dict | None = None,
                  deadline: float = 12.0, what: str = "slow upstream") -> None:
    """StackOne answering in 2 s, 64 callers for 20 s: how many waited past REQUEST_DEADLINE (and past it + 0.5 s),
    and the worst. `env` adds to the service's settings (REQUEST_DEADLINE among them, then given as `deadline`)."""
    port, service_port = free_port(), free_port()
    slow = start_standin(port, 2.0, cert, key, folder / "slow.log")
    service = start(["-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], {
        "STACKONE_API_KEY": KEY, "STACKONE_API_URL": f"https://127.0.0.1:{port}", "REQUESTS_CA_BUNDLE": cert,
        "BIND": f"127.0.0.1:{service_port}", "WEB_CONCURRENCY": "2", "OWNER_AUTH": "jwt",
        "OWNER_JWT_SECRET": JWT_SECRET, "OWNER_RATE_LIMIT": "", "STATE_DIR": str(folder / "slow-state"),
        "STACKONE_ENABLED_PROVIDERS": "bamboohr", "LOG_LEVEL": "WARNING", "STACKONE_RATE_LIMIT": NEVER_REACHED,
        **(env or {})}, folder / "slow-service.log")
    try:
        wait_until_up(f"http://127.0.0.1:{service_port}/healthz", service)
        url = f"http://127.0.0.1:{service_port}/stackone_connect_sessions"
        until = time.monotonic() + 20
        waits: list[float] = []
        statuses: list[int] = []

        def caller(_: int) -> None:
            session = requests.Session()
            while time.monotonic() < until:
                began = time.perf_counter()
                answer = session.post(url, json={"category": "hris"}, headers=headers, timeout=60)
                waits.append(time.perf_counter() - began)
                statuses.append(answer.status_code)

        with ThreadPoolExecutor(64) as pool:
            list(pool.map(caller, range(64)))
        waits.sort()
        late = sum(w > deadline for w in waits)
        later = sum(w > deadline + 0.5 for w in waits)
        print(f"\n{what} (2 s per call, 64 callers, 20 s): {len(waits)} answers ({statuses.count(200)} x 200), "
              f"{late} past the {deadline:g} s deadline, {later} past {deadline + 0.5:g} s, "
              f"p99 {waits[int(len(waits) * 0.99)]:.2f} s, worst wait {waits[-1]:.2f} s", flush=True)
    finally:
        stop(service)
        stop(slow)


def main() -> None:
    """The slow upstream with the service's defaults (REQUEST_DEADLINE 12 s), one owner's login."""
    folder = Path(tempfile.mkdtemp(prefix="bench-slow-upstream-"))
    cert, key = certificate(folder)
    slow_upstream(folder, cert, key, {"Authorization": f"Bearer {login(exp_in=3600)}"})


if __name__ == "__main__":
    main()
