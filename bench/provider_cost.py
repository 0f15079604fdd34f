"""What a provider body costs beyond a category body, against the warm account-cache read alone, in one process."""

import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import responses

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from extensions import EXTENSION_KEY  # noqa: E402
from support.logins import JWT_SECRET, login  # noqa: E402
from support.stackone_answers import API, API_KEY, account, session_answer  # noqa: E402

# StackOne's budget (STACKONE_RATE_LIMIT) counted, so its cost is in every figure, but never reached: the stand-ins
# are not StackOne, and a bench sends far more than 1,000 calls a minute.
NEVER_REACHED = "1000000/minute"
REQUESTS = int(os.environ.get("BENCH_PROVIDER_REQUESTS", "300"))
REPEATS = int(os.environ.get("BENCH_PROVIDER_REPEATS", "41"))
BODIES = {"category": {"category": "hris"}, "provider": {"provider": "bamboohr"}}


def cpu_per_call(call, count: int) -> float:
    """Process CPU (user + system) per call, in microseconds."""
    gc.collect()  # each block starts from the same heap, so no block pays for garbage another left
    started = time.process_time()
    for _ in range(count):
        call()
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    """Print each body's CPU, their difference and the cache read: medians over short interleaved blocks."""
    # The lean configuration (no INFO lines, no per-owner limit, no reuse): what differs between the bodies stands out.
    env = {"STACKONE_API_KEY": API_KEY, "STACKONE_API_URL": API, "OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": JWT_SECRET,
           "STACKONE_ENABLED_PROVIDERS": "bamboohr", "ACCOUNT_CACHE_TTL": "3600", "LOG_LEVEL": "WARNING",
           "OWNER_RATE_LIMIT": "", "STACKONE_RATE_LIMIT": NEVER_REACHED, "SESSION_REUSE_WINDOW": "0",
           "STATE_DIR": tempfile.mkdtemp(prefix="bench-provider-")}
    app = create_app(env)
    client = app.test_client()
    owner = "org-bench"
    headers = {"Authorization": f"Bearer {login(org_id=owner, exp_in=36000)}"}
    directory = app.extensions[EXTENSION_KEY].accounts
    figures: dict[str, list[float]] = {"category": [], "provider": [], "cache read": [], "difference": []}
    # StackOne answered by `responses`: the process measured is this one, the service's code and nothing else.
    with responses.RequestsMock(assert_all_requests_are_fired=False) as stackone:
        stackone.add(responses.GET, f"{API}/accounts", json=[account(owner=owner)])
        stackone.add(responses.POST, f"{API}/connect_sessions", json=session_answer(), status=201)
        for body in BODIES.values():  # warm: the owner's accounts cached, the token verified once
            answer = client.post("/stackone_connect_sessions", json=body, headers=headers)
            assert answer.status_code in (200, 201), answer.get_data(as_text=True)
        # Short blocks, many times, in turn: the machine's drift reaches both bodies alike.
        for _ in range(REPEATS):
            for name, body in BODIES.items():
                figures[name].append(cpu_per_call(
                    lambda body=body: client.post("/stackone_connect_sessions", json=body, headers=headers), REQUESTS))
            figures["difference"].append(figures["provider"][-1] - figures["category"][-1])
            figures["cache read"].append(cpu_per_call(lambda: directory.owner_accounts(owner, "bamboohr"), REQUESTS))
        assert len(stackone.calls) - 2 * REPEATS * REQUESTS <= 3, "the account cache was missed while measuring"
    print(f"provider body against category body, in one process ({REPEATS} interleaved repeats of {REQUESTS}):")
    for name, values in figures.items():
        low, middle, high = statistics.quantiles(values, n=4)
        print(f"{name:12} {middle:7.0f} us per request (median; quartiles {low:.0f} to {high:.0f}; fastest block "
              f"{min(values):.0f})")


if __name__ == "__main__":
    main()
