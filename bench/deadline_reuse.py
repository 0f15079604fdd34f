"""No caller waits past REQUEST_DEADLINE + 0.5 s, reuse included: StackOne (a TLS stand-in) answering in 2 s, one
owner's identical requests from 64 callers for 20 s, STACKONE_TIMEOUT=3 and REQUEST_DEADLINE=5, session reuse on (its
default). Prints how many answers came past the deadline and past it + 0.5 s, and the worst wait. Loopback only."""

from __future__ import annotations

import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from proxy_floor import KEY, certificate  # noqa: E402 - bench/proxy_floor.py, beside this file

from bench.provider_cost import NEVER_REACHED  # noqa: E402
from tests.e2e_processes import free_port, start, stop, wait_until_up  # noqa: E402
from tests.helpers import JWT_SECRET, login  # noqa: E402

CALLERS, SECONDS, DEADLINE = 64, 20.0, 5.0


def main() -> None:
    """Run the load and print the figures."""
    folder = Path(tempfile.mkdtemp(prefix="bench-deadline-"))
    cert, key = certificate(folder)
    port, service_port = free_port(), free_port()
    slow = start(["bench/standin.py", str(port), "2.0", cert, key], {}, folder / "slow.log")
    service = start(["-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], {
        "STACKONE_API_KEY": KEY, "STACKONE_API_URL": f"https://127.0.0.1:{port}", "REQUESTS_CA_BUNDLE": cert,
        "BIND": f"127.0.0.1:{service_port}", "WEB_CONCURRENCY": "2", "OWNER_AUTH": "jwt",
        "OWNER_JWT_SECRET": JWT_SECRET, "OWNER_RATE_LIMIT": "", "STATE_DIR": str(folder / "state"),
        "STACKONE_ENABLED_PROVIDERS": "bamboohr", "LOG_LEVEL": "WARNING", "STACKONE_RATE_LIMIT": NEVER_REACHED,
        "STACKONE_TIMEOUT": "3", "REQUEST_DEADLINE": str(DEADLINE)}, folder / "service.log")
    headers = {"Authorization": f"Bearer {login(exp_in=3600)}"}  # one owner, one user: every request identical
    try:
        wait_until_up(f"http://127.0.0.1:{service_port}/healthz", service)
        url = f"http://127.0.0.1:{service_port}/stackone_connect_sessions"
        until = time.monotonic() + SECONDS
        waits: list[float] = []
        statuses: list[int] = []

        def caller(_: int) -> None:
            session = requests.Session()
            while time.monotonic() < until:
                began = time.perf_counter()
                answer = session.post(url, json={"category": "hris"}, headers=headers, timeout=60)
                waits.append(time.perf_counter() - began)
                statuses.append(answer.status_code)

        with ThreadPoolExecutor(CALLERS) as pool:
            list(pool.map(caller, range(CALLERS)))
        waits.sort()
        p99 = waits[int(len(waits) * 0.99)]
        print(f"StackOne at 2 s, {CALLERS} callers of one owner for {SECONDS:g} s (STACKONE_TIMEOUT=3, "
              f"REQUEST_DEADLINE={DEADLINE:g}, reuse on): {len(waits)} answers ({statuses.count(200)} x 200, "
              f"others {sorted(set(statuses) - {200})}), {sum(w > DEADLINE for w in waits)} past {DEADLINE:g} s, "
              f"{sum(w > DEADLINE + 0.5 for w in waits)} past {DEADLINE + 0.5:g} s, p99 {p99:.2f} s, "
              f"worst {waits[-1]:.2f} s", flush=True)
    finally:
        stop(service)
        stop(slow)


if __name__ == "__main__":
    main()
