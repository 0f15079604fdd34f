"""What an Idempotency-Key costs (a fresh key, a replayed one, none) and what live-session reuse costs a first
click, for a category session, in one process."""

import itertools
import os
import statistics
import sys
import tempfile
from pathlib import Path

import responses

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.provider_cost import NEVER_REACHED, cpu_per_call  # noqa: E402
from support.logins import JWT_SECRET, login  # noqa: E402
from support.stackone_answers import API, API_KEY, session_answer  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_IDEMPOTENCY_REQUESTS", "300"))
REPEATS = int(os.environ.get("BENCH_IDEMPOTENCY_REPEATS", "21"))


def main() -> None:
    """Print CPU per request for each row: medians over short interleaved blocks (StackOne played by responses)."""
    from app import create_app

    # The lean configuration, as in provider_cost.py: what differs between the rows stands out.
    app = create_app({"STACKONE_API_KEY": API_KEY, "STACKONE_API_URL": API, "OWNER_AUTH": "jwt",
                      "OWNER_JWT_SECRET": JWT_SECRET, "LOG_LEVEL": "WARNING", "OWNER_RATE_LIMIT": "",
                      "STACKONE_RATE_LIMIT": NEVER_REACHED, "SESSION_REUSE_WINDOW": "0",
                      "STATE_DIR": tempfile.mkdtemp(prefix="bench-idempotency-")})
    client = app.test_client()
    # The default configuration's live-session reuse (SESSION_REUSE_WINDOW=60): each request a new decision (its own
    # label), so each claims, mints and keeps a record, as a first click does.
    reusing = create_app({"STACKONE_API_KEY": API_KEY, "STACKONE_API_URL": API, "OWNER_AUTH": "jwt",
                          "OWNER_JWT_SECRET": JWT_SECRET, "LOG_LEVEL": "WARNING", "OWNER_RATE_LIMIT": "",
                          "STACKONE_RATE_LIMIT": NEVER_REACHED,
                          "STATE_DIR": tempfile.mkdtemp(prefix="bench-reuse-")}).test_client()
    headers = {"Authorization": f"Bearer {login(org_id='org-bench', exp_in=36000)}"}
    fresh = itertools.count()
    rows = {
        "no key": lambda: client.post("/stackone_connect_sessions", json={"category": "hris"}, headers=headers),
        "fresh key": lambda: client.post("/stackone_connect_sessions", json={"category": "hris"},
                                         headers={**headers, "Idempotency-Key": f"k-{next(fresh)}"}),
        "replayed key": lambda: client.post("/stackone_connect_sessions", json={"category": "hris"},
                                            headers={**headers, "Idempotency-Key": "k-replayed"}),
        "reuse on, first": lambda: reusing.post("/stackone_connect_sessions",
                                                json={"category": "hris", "label": f"l{next(fresh)}"},
                                                headers=headers),
    }
    figures: dict[str, list[float]] = {name: [] for name in rows}
    with responses.RequestsMock(assert_all_requests_are_fired=False) as stackone:
        stackone.add(responses.POST, f"{API}/connect_sessions", json=session_answer(), status=201)
        for call in rows.values():
            assert call().status_code == 200
        for _ in range(REPEATS):
            for name, call in rows.items():
                figures[name].append(cpu_per_call(call, REQUESTS))
    print(f"Idempotency-Key, state in SQLite, in one process ({REPEATS} interleaved repeats of {REQUESTS}):")
    base = statistics.median(figures["no key"])
    for name, values in figures.items():
        low, middle, high = statistics.quantiles(values, n=4)
        print(f"{name:13} {middle:7.0f} us per request (median; quartiles {low:.0f} to {high:.0f}); "
              f"{middle - base:+.0f} us against no key")


if __name__ == "__main__":
    main()
