"""CPU per StackOne call that counting it against StackOne's budget costs: one Lua script in a real redis-server (the
fleet), and the per-process count (one host without Redis), against a call not counted."""

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from stackone.budget import Budget, Rule  # noqa: E402
from state import open_sqlite_state  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402

CALLS = int(os.environ.get("BENCH_BUDGET_CALLS", "5000"))
REPEATS = int(os.environ.get("BENCH_BUDGET_REPEATS", "5"))
RULE = Rule.parse("1000000000/minute", 0.2)  # counted, never refused: the cost of counting is what is measured


def cpu_per_call(take) -> float:
    """Median over REPEATS runs of this process's CPU seconds per call, in microseconds."""
    runs = []
    for _ in range(REPEATS):
        started = time.process_time()
        for n in range(CALLS):
            take(n % 5 == 0)  # one call in five is background work
        runs.append((time.process_time() - started) / CALLS * 1e6)
    return statistics.median(runs)


def redis_cpu(url: str) -> float:
    """redis-server's own CPU seconds so far (INFO cpu)."""
    info = redis.Redis.from_url(url).info("cpu")
    return info["used_cpu_user"] + info["used_cpu_sys"]


def main() -> None:
    """Print the CPU per call of each way of counting."""
    folder = Path(tempfile.mkdtemp(prefix="bench-budget-"))
    state = open_sqlite_state(str(folder / "state"))
    server = RedisServer(folder)
    server.start()
    try:
        shared = Budget(RULE, state, processes=1, redis_url=server.url, prefix="bench")
        shared.take(False)  # the script loaded and the connection made before the clock starts
        before = redis_cpu(server.url)
        in_redis = cpu_per_call(shared.take)
        server_side = (redis_cpu(server.url) - before) / (CALLS * REPEATS) * 1e6
        plain = redis.Redis.from_url(server.url)
        floor = cpu_per_call(lambda _background: plain.get("bench:floor"))
        local = cpu_per_call(Budget(RULE, state, processes=2).take)
    finally:
        server.stop()
    print(f"StackOne budget, CPU per call counted ({CALLS} calls x {REPEATS}, median):")
    print(f"  in Redis (one EVALSHA round trip): {in_redis:6.1f} us in the worker, {server_side:5.1f} us in redis")
    print(f"  for scale, one plain GET:          {floor:6.1f} us in the worker (redis-py's floor for a round trip)")
    print(f"  per process (no REDIS_URL):        {local:6.1f} us in the worker (a state-folder read for the pause)")


if __name__ == "__main__":
    main()
