"""What the connection ledger costs as owners grow (1,000, 10,000, 100,000, two accounts each), on a real
redis-server and on STATE_DIR's SQLite database: Redis commands or SQLite statements and CPU per idle tick of one
worker; CPU per first-click mint; and the time to drain 10,000 due events to a local receiver."""

import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import jwt
import redis
import responses

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.event_receiver import Receiver  # noqa: E402 - starts a process, nothing else
from bench.ledger_fill import fill  # noqa: E402
from support.redis_server import RedisServer  # noqa: E402 - starts a process, nothing else

OWNERS = [int(n) for n in os.environ.get("BENCH_SCALE_OWNERS", "1000,10000,100000").split(",")]
TICKS = int(os.environ.get("BENCH_SCALE_TICKS", "500"))
MINTS = int(os.environ.get("BENCH_SCALE_MINTS", "400"))
REPEATS = int(os.environ.get("BENCH_SCALE_REPEATS", "5"))
DRAIN = int(os.environ.get("BENCH_SCALE_EVENTS", "10000"))
TAKING_TURNS = 2000  # owners with their own login, minting in turn
API = "https://api.stackone.bench"
API_KEY = "v1.bench.scale_key_0123456789abc"
JWT_SECRET = "bench-scale-login-secret-0123456789abcdef"
WEBHOOK_SECRET = "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

STATEMENTS = [0]  # SQLite statements run by this process, counted by each connection's trace callback


def count_sqlite_statements() -> None:
    """Every connection the state database opens from now on counts the statements it runs."""
    from state.sqlite_db import Database

    connect = Database._connect

    def counted(self):
        conn = connect(self)
        conn.set_trace_callback(lambda _sql: STATEMENTS.__setitem__(0, STATEMENTS[0] + 1))
        return conn

    Database._connect = counted


def make_app(state_dir: Path, receiver_url: str, redis_url: str | None):
    """The service as a worker builds it (LOG_LEVEL=WARNING: the bench's output stays readable; StackOne's budget
    counted, never reached)."""
    from app import create_app

    config = {"STACKONE_API_KEY": API_KEY, "STACKONE_API_URL": API, "OWNER_AUTH": "jwt",
              "OWNER_JWT_SECRET": JWT_SECRET, "LOG_LEVEL": "WARNING", "STACKONE_RATE_LIMIT": "1000000/minute",
              "STATE_DIR": str(state_dir), "APP_WEBHOOK_URL": receiver_url, "APP_WEBHOOK_SECRET": WEBHOOK_SECRET,
              "RECONCILE_INTERVAL": "0"}
    if redis_url:
        config["REDIS_URL"] = redis_url
    if os.environ.get("BENCH_SCALE_LINKS"):  # Auth Links of ours on: each tick also claims the links' reminders
        config["AUTH_LINK_BASE_URL"] = "https://connect.bench.test"
    return create_app(config)


class RedisCounter:
    """Commands and CPU of a redis-server, read from INFO (the INFO call itself taken off)."""

    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(url)

    def read(self) -> tuple[int, float]:
        stats, cpu = self.client.info("stats"), self.client.info("cpu")
        return stats["total_commands_processed"], cpu["used_cpu_user"] + cpu["used_cpu_sys"]

    def per(self, before: tuple[int, float], count: int) -> tuple[float, float]:
        after = self.read()
        return (after[0] - before[0] - 2) / count, (after[1] - before[1]) / count * 1e6  # 2: the INFO calls


def idle_ticks(svc, counter: RedisCounter | None) -> tuple[float, float, float]:
    """Per idle tick (nothing due), as the background loop runs it: commands or statements, worker CPU (us), and
    redis-server CPU (us; 0 for SQLite)."""
    svc.run_due(passes=True)
    gc.collect()
    before = counter.read() if counter else None
    statements, cpu = STATEMENTS[0], time.process_time()
    for _ in range(TICKS):
        svc.run_due(passes=True)
    worker = (time.process_time() - cpu) / TICKS * 1e6
    if counter:
        commands, server = counter.per(before, TICKS)
        return commands, worker, server
    return (STATEMENTS[0] - statements) / TICKS, worker, 0.0


def mint_cpu(client, logins: list[str]) -> float:
    """Median CPU per first-click mint (a provider body; each its own decision, so reuse claims and keeps a record),
    owners taking turns, StackOne played by `responses`."""
    turn, run = iter(range(10**9)), os.urandom(4).hex()  # labels never met before, in this run or any other

    def mint():
        n = next(turn)
        answer = client.post("/stackone_connect_sessions", json={"provider": "hibob", "label": f"{run}-{n}"},
                             headers={"Authorization": f"Bearer {logins[n % len(logins)]}"})
        assert answer.status_code == 200, (n, answer.get_json())

    for _ in logins:  # every login verified once and every owner's account list cached, as in a warm worker
        mint()
    blocks = []
    for _ in range(REPEATS):
        gc.collect()
        started = time.process_time()
        for _ in range(MINTS):
            mint()
        blocks.append((time.process_time() - started) / MINTS * 1e6)
    return statistics.median(blocks)


def drain(svc, receiver: Receiver, start: int) -> tuple[float, int]:
    """Queue DRAIN connection.created events (accounts new to the ledger), then run_due until none is queued: the
    seconds it took and the ticks."""
    from connections.changes import Observation

    monitor, when = svc.connections, (time.time(), time.time_ns())
    for n in range(DRAIN):
        owner = start + n
        monitor.apply(Observation(f"new-{owner}", f"org-{owner}", status="active", provider="hibob",
                                  owner_name=f"Org {owner}"), when, "webhook")
    assert monitor.ledger.backlog() == DRAIN
    received, ticks, started = receiver.received(), 0, time.monotonic()
    while monitor.ledger.backlog():
        svc.run_due()
        ticks += 1
    elapsed = time.monotonic() - started
    assert receiver.received() - received == DRAIN
    return elapsed, ticks


def run_backend(name: str, redis_url: str | None, folder: Path, receiver: Receiver) -> dict:
    """Every figure for one backend, the ledger grown from one owner count to the next."""
    from extensions import EXTENSION_KEY

    app = make_app(folder / name, receiver.url, redis_url)
    svc = app.extensions[EXTENSION_KEY]
    client = app.test_client()
    counter = RedisCounter(redis_url) if redis_url else None
    exp = int(time.time()) + 36000
    logins = [jwt.encode({"org_id": f"org-{n}", "org_name": f"Org {n}", "email": f"ann@org-{n}.test", "exp": exp},
                         JWT_SECRET, algorithm="HS256") for n in range(TAKING_TURNS)]
    rows, filled = [], 0
    with responses.RequestsMock(assert_all_requests_are_fired=False) as stackone:
        stackone.add(responses.GET, f"{API}/accounts", json=[])
        stackone.add(responses.GET, f"{API}/connectors/meta", json=[
            {"provider": "hibob", "provider_name": "HiBob", "category": "hris", "active": True}])
        stackone.add(responses.POST, f"{API}/connect_sessions", status=201, json={
            "id": 7, "organization_id": "1", "project_id": "p1", "origin_owner_id": "org-0",
            "origin_owner_name": "Org 0", "created_at": "2026-11-21T00:00:00Z", "token": "sess_tok_bench"})
        for owners in OWNERS:
            seconds = fill(svc.connections.ledger, owners, filled)
            filled = owners
            with app.app_context():  # not around the mints: a request would reuse it, and its `g`
                commands, worker, server = idle_ticks(svc, counter)
            rows.append((owners, seconds, commands, worker, server, mint_cpu(client, logins)))
            print(f"  {name}: {owners:,} owners written in {seconds:.1f} s", flush=True)
        with app.app_context():
            drained = drain(svc, receiver, filled)
    return {"rows": rows, "drain": drained}


def main() -> None:
    """Print the tables."""
    count_sqlite_statements()
    folder = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    receiver = Receiver()
    server = RedisServer(folder)
    server.start()
    try:
        results = {"Redis": run_backend("redis", server.url, folder, receiver),
                   "SQLite": run_backend("sqlite", None, folder, receiver)}
    finally:
        server.stop()
        receiver.shutdown()
    print(f"\nPer idle tick of one worker (run_due with nothing due, {TICKS} ticks) and per first-click mint "
          f"({TAKING_TURNS:,} owners taking turns, median of {REPEATS} blocks of {MINTS}); 2 accounts per owner:")
    print("| state | owners | ledger written in | commands per idle tick | worker CPU per idle tick "
          "| redis-server CPU per idle tick | worker CPU per mint |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, result in results.items():
        unit = "Redis commands" if name == "Redis" else "SQLite statements"
        for owners, seconds, commands, worker, server_cpu, mint in result["rows"]:
            print(f"| {name} | {owners:,} | {seconds:.1f} s | {commands:.1f} {unit} | {worker:.0f} us | "
                  + (f"{server_cpu:.0f} us" if name == "Redis" else "—") + f" | {mint:.0f} us |")
    print(f"\nDraining {DRAIN:,} due events to a local receiver (204, a new connection per send) through run_due:")
    print("| state | wall time | events a second | ticks |")
    print("| --- | --- | --- | --- |")
    for name, result in results.items():
        seconds, ticks = result["drain"]
        print(f"| {name} | {seconds:.1f} s | {DRAIN / seconds:.0f} | {ticks} |")


if __name__ == "__main__":
    main()
