"""Memory the per-owner limit keeps per owner in one worker without Redis: limits' own storage against ours."""

import gc
import os
import sys
import tracemalloc
from pathlib import Path

from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from config import DEFAULT_OWNER_RATE_LIMIT  # noqa: E402
from ratelimit.memory import MAX_TRACKED_OWNERS, SweptMemoryStorage  # noqa: E402
from state.keys import owner_key  # noqa: E402

OWNERS = int(os.environ.get("BENCH_LIMIT_OWNERS", "50000"))
HITS = int(os.environ.get("BENCH_LIMIT_HITS", "1"))  # requests per owner within the hour


def bytes_per_owner(storage) -> tuple[float, int]:
    """Python heap (tracemalloc) the storage grows by per owner, and how many owners it still tracks."""
    rules = parse_many(DEFAULT_OWNER_RATE_LIMIT)
    limiter = MovingWindowRateLimiter(storage)
    keys = [owner_key(f"owner-{n}") for n in range(OWNERS)]
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for key in keys:
        for _ in range(HITS):
            for rule in rules:
                limiter.hit(rule, "owner", key)
    gc.collect()
    grown = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    tracked = len(storage.events) // len(rules)
    return grown / OWNERS, tracked


def main() -> None:
    """Print bytes per owner and the total for OWNERS owners, each counted HITS times on every default rule."""
    print(f"per-owner limit memory: {OWNERS} owners, {HITS} request(s) each, rules {DEFAULT_OWNER_RATE_LIMIT}")
    rules = len(parse_many(DEFAULT_OWNER_RATE_LIMIT))
    rows = [
        ("limits' MemoryStorage (before)", MemoryStorage()),
        ("ours, no cap", SweptMemoryStorage(max_keys=10**12)),
        (f"ours, cap {MAX_TRACKED_OWNERS} owners (default)", SweptMemoryStorage(max_keys=MAX_TRACKED_OWNERS * rules)),
    ]
    for name, storage in rows:
        per_owner, tracked = bytes_per_owner(storage)
        print(f"  {name:<40} {per_owner:7.0f} B/owner  {per_owner * OWNERS / 2**20:6.1f} MiB in all  "
              f"({tracked} owners tracked)")
        timer = getattr(storage, "timer", None)
        if timer is not None:
            timer.cancel()


if __name__ == "__main__":
    main()
