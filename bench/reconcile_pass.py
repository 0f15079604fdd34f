"""A reconcile pass over 30,000 accounts against the sandbox playing StackOne's rate limit (1,000 calls a minute):
StackOne calls, wall time under STACKONE_RATE_LIMIT's default budget, and the 429s met (which must be 0)."""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from support.redis_server import RedisServer  # noqa: E402 - starts a process, nothing else

ACCOUNTS = int(os.environ.get("BENCH_RECONCILE_ACCOUNTS", "30000"))
OWNERS = int(os.environ.get("BENCH_RECONCILE_OWNERS", "10000"))
STACKONE_LIMIT = 1000  # a minute: StackOne's documented limit per API key, played by the sandbox
KEY = "v1.bench.reconcile_0123456789abc"


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return probe.getsockname()[1]


def start_sandbox(folder: Path) -> tuple[subprocess.Popen, str]:
    """The sandbox as its own process (as `make run` starts it), answering once up."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "sandbox", "--port", str(port)], cwd=ROOT,
                               env={**os.environ, "SANDBOX_API_KEY": KEY}, stdout=subprocess.DEVNULL,
                               stderr=open(folder / "sandbox.log", "wb"))  # noqa: SIM115 - closed with the process
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/sandbox/calls", timeout=2)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.1)
    raise RuntimeError("the sandbox did not start")


def reconcile(url: str, state_dir: Path, redis_url: str | None) -> tuple[dict, float]:
    """`flask reconcile` as the operator runs it (the background pass calls the same code), with the defaults:
    STACKONE_RATE_LIMIT=1000/minute, STACKONE_BACKGROUND_SHARE=0.2. Its counts and wall time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STACKONE_", "REDIS_", "WEB_CONCURRENCY"))}
    env.update({"STACKONE_API_KEY": KEY, "STACKONE_API_URL": url, "OWNER_AUTH": "jwt",
                "OWNER_JWT_SECRET": "bench-reconcile-secret-0123456789abcdef", "STATE_DIR": str(state_dir),
                "APP_WEBHOOK_URL": f"http://127.0.0.1:{free_port()}/events", "RECONCILE_INTERVAL": "0",
                "APP_WEBHOOK_SECRET": "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "LOG_LEVEL": "WARNING"})
    if redis_url:
        env["REDIS_URL"] = redis_url
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "flask", "--app", "app", "reconcile"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1800)
    elapsed = time.monotonic() - started
    if done.returncode:
        raise RuntimeError(f"the pass failed: {done.stderr[-500:]}")
    return json.loads(done.stdout), elapsed


def main() -> None:
    """Seed the sandbox, play StackOne's limit, run one pass per backend and print what it cost."""
    folder = Path(tempfile.mkdtemp(prefix="bench-reconcile-"))
    sandbox, url = start_sandbox(folder)
    server = RedisServer(folder)
    server.start()
    rows = []
    try:
        requests.post(f"{url}/sandbox/accounts", json={"count": ACCOUNTS, "owners": OWNERS},
                      timeout=120).raise_for_status()
        requests.post(f"{url}/sandbox/settings", json={"rate_limit_per_minute": STACKONE_LIMIT},
                      timeout=5).raise_for_status()
        for name, redis_url in (("Redis (the fleet's shared budget)", server.url), ("SQLite (one host)", None)):
            calls_before = requests.get(f"{url}/sandbox/calls", timeout=30).json().count("GET /accounts")
            refused_before = requests.post(f"{url}/sandbox/settings", json={}, timeout=5).json()["rate_limited"]
            counts, elapsed = reconcile(url, folder / name.split()[0].lower(), redis_url)
            calls = requests.get(f"{url}/sandbox/calls", timeout=30).json().count("GET /accounts") - calls_before
            refused = requests.post(f"{url}/sandbox/settings", json={}, timeout=5).json()["rate_limited"]
            rows.append((name, counts["applied"], calls, elapsed, refused - refused_before))
    finally:
        server.stop()
        sandbox.terminate()
        sandbox.wait()
    print(f"Reconcile pass over {ACCOUNTS:,} accounts ({OWNERS:,} owners), the sandbox allowing {STACKONE_LIMIT} "
          "calls a minute, STACKONE_RATE_LIMIT=1000/minute (background share 0.2):")
    print("| state | accounts applied | StackOne calls (GET /accounts) | wall time | 429s |")
    print("| --- | --- | --- | --- | --- |")
    for name, applied, calls, elapsed, refused in rows:
        print(f"| {name} | {applied:,} | {calls} | {elapsed:.0f} s | {refused} |")


if __name__ == "__main__":
    main()
