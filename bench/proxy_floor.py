"""Benchmark, side by side in one run: the seed's Flask example, a minimal pooled proxy, and this service (category and
provider bodies), against a TLS StackOne stand-in with a fixed service time.

The seed's example runs twice: as `gunicorn seed_example:app` runs it (gunicorn's defaults: one sync worker) and with
the floor's workers (gthread 2x8). Every contender runs at once; they are measured in turn, in interleaved rounds that
the floor opens and closes (its row for a round is the mean of the two), and the medians are printed: CPU per request
(from /proc, the gunicorn master and workers), c=1 p50 over one direct round trip, and c=16 throughput. CPU against
the floor is measured once more in short windows alternating with the floor's. Contenders are picked by role (the
floor, the two seeds), never by their place in the list. Load from wrk when installed. Loopback only; bounded in time.
Run with `make bench` (which then runs bench/slow_upstream.py, once the second half of this file).
"""

from __future__ import annotations

import base64
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import load  # noqa: E402 - bench/load.py, beside this file

from bench.contenders import Contender, pick  # noqa: E402
from bench.provider_cost import NEVER_REACHED  # noqa: E402
from bench.tls_standin import KEY, certificate, start_standin, wait_for_standin  # noqa: E402
from support.logins import JWT_SECRET, login  # noqa: E402
from support.processes import free_port, start, stop, wait_until_up  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "6"))
LOAD_SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "6"))
SERIAL_SECONDS = float(os.environ.get("BENCH_SERIAL_SECONDS", "3"))
# CPU against the floor, measured again in short alternating windows (floor, contender, floor, ...): the machine's
# speed drifts between the rounds' minute-apart measurements, much less between windows seconds apart.
ALTERNATIONS = int(os.environ.get("BENCH_ALTERNATIONS", "10"))
ALTERNATION_SECONDS = 2  # wrk takes whole seconds
BENCH = ["-m", "gunicorn", "-c", "bench/plain_gunicorn.py", "--chdir", "bench"]
FLOOR_WORKERS = ["-w", "2", "-k", "gthread", "--threads", "8"]
DELAY = 0.02
OWNERS = 2000
WARM_SECONDS = 12
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(master: int) -> float:
    """User + system CPU of a gunicorn master and its workers, from /proc."""
    total = 0.0
    children = Path(f"/proc/{master}/task/{master}/children")
    pids = [master] + ([int(p) for p in children.read_text().split()] if children.exists() else [])
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def measure(contender: Contender, headers: list[dict], direct_p50: float, *, keep: bool = True) -> dict:
    """c=1 p50 over one direct round trip, then CPU per request and throughput at c=16 (kept as a round's row)."""
    serial = load.post(contender.url, contender.body, headers, 1, SERIAL_SECONDS)
    if serial.failed:
        raise SystemExit(f"{contender.name}: {serial.failed} answers were not 2xx")
    cpu_ms, busy = busy_cpu(contender, headers, LOAD_SECONDS)
    row = {"cpu_ms": cpu_ms, "p50_ratio": serial.p50 / direct_p50, "rps": busy.rps}
    if keep:
        contender.rows.append(row)
    return row


def busy_cpu(contender: Contender, headers: list[dict], seconds: float) -> tuple[float, load.Result]:
    """CPU milliseconds per request at c=16 for `seconds`, and what the load got back (every answer 2xx)."""
    before = cpu_seconds(contender.process.pid)
    busy = load.post(contender.url, contender.body, headers, 16, seconds)
    spent = cpu_seconds(contender.process.pid) - before
    if busy.failed or not busy.answered:
        raise SystemExit(f"{contender.name}: {busy.failed} answers were not 2xx")
    return spent / busy.answered * 1000, busy


def alternated(contender: Contender, floor: Contender, headers: list[dict]) -> list[float]:
    """Ratios of the contender's CPU per request to the floor's, in windows alternating floor, contender, floor, ...:
    each contender window against the mean of the floor windows just before and just after it."""
    floors = [busy_cpu(floor, headers, ALTERNATION_SECONDS)[0]]
    ratios = []
    for _ in range(ALTERNATIONS):
        mine = busy_cpu(contender, headers, ALTERNATION_SECONDS)[0]
        floors.append(busy_cpu(floor, headers, ALTERNATION_SECONDS)[0])
        ratios.append(mine / ((floors[-2] + floors[-1]) / 2))
    return ratios


def median_row(contender: Contender) -> dict:
    """The median of each figure over the rounds."""
    return {k: statistics.median(r[k] for r in contender.rows) for k in ("cpu_ms", "p50_ratio", "rps")}


FLOOR, SEED, SEED_FLOOR_WORKERS = "floor", "seed", "seed, floor workers"  # the roles the ratios are taken against


def contenders(folder: Path) -> list[Contender]:
    """The seed's example as gunicorn runs it by default and with the floor's workers, the floor, this service.

    Those without a role (the floor under gevent and the service's rows) are measured again against the floor in
    alternating windows; a provider body's accounts are cached before the rounds. The order is only the print order.
    """
    service = ["-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"]
    service_env = {"WEB_CONCURRENCY": "2", "OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": JWT_SECRET,
                   "STACKONE_ENABLED_PROVIDERS": "bamboohr", "STACKONE_WEBHOOK_SECRETS": "whsec_bench_0123456789",
                   # Otherwise its defaults (INFO access and audit lines, the per-owner limit); the cache outlasts
                   # the run.
                   "ACCOUNT_CACHE_TTL": "3600", "STATE_DIR": str(folder / "state")}
    seed_body = {"originUsername": "ann@acme.test"}
    return [
        Contender("seed example, `gunicorn seed_example:app`", [*BENCH, "seed_example:app"], {}, seed_body,
                  role=SEED),
        Contender("seed example, gthread 2x8", [*BENCH, *FLOOR_WORKERS, "seed_example:app"], {}, seed_body,
                  role=SEED_FLOOR_WORKERS),
        Contender("minimal pooled proxy, gthread 2x8 (floor)", [*BENCH, *FLOOR_WORKERS, "minimal_proxy:app"], {},
                  seed_body, role=FLOOR),
        # The floor under gevent, the service's worker model: what the worker model itself costs.
        Contender("minimal pooled proxy, gevent 2x1000", [*BENCH, "-w", "2", "-k", "gevent", "minimal_proxy:app"], {},
                  seed_body),
        Contender("this service, category body", service, service_env, {"category": "hris"}),
        Contender("this service, provider body (warm cache)", service, service_env, {"provider": "bamboohr"}),
        # What the default configuration's INFO access and audit lines and per-owner limit cost, in the same run.
        Contender("this service, category body, lean (a)", service,
                  {**service_env, "LOG_LEVEL": "WARNING", "OWNER_RATE_LIMIT": ""}, {"category": "hris"}),
        # The worker model, decided by measurement: the same service under gunicorn's threads instead of gevent.
        Contender("this service, category body, gthread 2x8",
                  ["-m", "gunicorn", "-c", "bench/worker_models.py", "-k", "gthread", "--threads", "8", "wsgi:app"],
                  service_env, {"category": "hris"}),
    ]


def main() -> None:
    """Start the stand-in and every contender, measure them in interleaved rounds, print the medians."""
    folder = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    cert, key = certificate(folder)
    standin_port = free_port()
    standin_url = f"https://127.0.0.1:{standin_port}"
    standin = start_standin(standin_port, DELAY, cert, key, folder / "standin.log")
    common = {"STACKONE_API_KEY": KEY, "STACKONE_API_URL": standin_url, "REQUESTS_CA_BUNDLE": cert,
              "STACKONE_RATE_LIMIT": NEVER_REACHED}
    everyone = contenders(folder)
    started: dict[str, tuple[subprocess.Popen, str]] = {}
    try:
        wait_for_standin(standin_url, cert)
        basic = {"Authorization": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()}
        direct_p50 = load.post(f"{standin_url}/connect_sessions", {}, [basic], 1, SERIAL_SECONDS, verify=cert).p50
        print(f"load: {load.GENERATOR}; {ROUNDS} rounds, each contender in turn: c=1 for {SERIAL_SECONDS:g} s, then "
              f"c=16 for {LOAD_SECONDS:g} s. Stand-in over TLS with {DELAY * 1000:.0f} ms service time; one direct "
              f"round trip p50 {direct_p50 * 1000:.1f} ms; {os.cpu_count()} cores\n", flush=True)
        launch(everyone, common, folder, started)
        # Many owners, each with their own login, as in production; each stays inside the default per-owner limit.
        headers = [{"Authorization": f"Bearer {login(org_id=f'org-{n}', org_name=f'Org {n}', exp_in=3600)}"}
                   for n in range(OWNERS)]
        for contender in everyone:
            if "provider" in contender.body:  # every owner's accounts in the cache
                load.post(contender.url, contender.body, headers, 16, WARM_SECONDS)
        rounds(everyone, headers, direct_p50)
        alternations(everyone, headers)
        summary(everyone)
    finally:
        for process, _ in started.values():
            stop(process)
        stop(standin)


def launch(everyone: list[Contender], common: dict[str, str], folder: Path,
           started: dict[str, tuple[subprocess.Popen, str]]) -> None:
    """Start each contender's server (one per distinct command and settings) and wait until it answers."""
    for contender in everyone:
        key_args = " ".join(contender.args) + repr(sorted(contender.env.items()))
        if key_args not in started:  # the two service bodies share one gunicorn
            port = free_port()
            bind = [] if "wsgi:app" in contender.args else ["--bind", f"127.0.0.1:{port}"]
            process = start(contender.args + bind, {**common, **contender.env, "BIND": f"127.0.0.1:{port}"},
                            folder / f"{port}.log")
            started[key_args] = (process, f"http://127.0.0.1:{port}/stackone_connect_sessions")
            wait_until_up(f"http://127.0.0.1:{port}/", process)
        contender.process, contender.url = started[key_args]


def rounds(everyone: list[Contender], headers: list[dict], direct_p50: float) -> None:
    """ROUNDS rounds of every contender in turn, each round opened and closed by the floor."""
    floor = pick(everyone, FLOOR)
    for round_no in range(1, ROUNDS + 1):
        # The floor opens and closes each round, and its row is the mean of the two: the machine's speed drifts
        # over a round (a quarter between rounds), and every ratio to the floor is taken within the round.
        opening = measure(floor, headers, direct_p50, keep=False)
        report(round_no, f"{floor.name}, opening", opening)
        for contender in everyone:
            if contender is not floor:
                report(round_no, contender.name, measure(contender, headers, direct_p50))
        closing = measure(floor, headers, direct_p50, keep=False)
        report(round_no, f"{floor.name}, closing", closing)
        floor.rows.append({k: (opening[k] + closing[k]) / 2 for k in opening})


def alternations(everyone: list[Contender], headers: list[dict]) -> None:
    """CPU against the floor in alternating windows, for each contender without a role."""
    floor = pick(everyone, FLOOR)
    print(f"\nCPU against the floor in alternating {ALTERNATION_SECONDS} s windows ({ALTERNATIONS} per contender):",
          flush=True)
    for contender in [c for c in everyone if not c.role]:  # the floor under gevent and the service's rows
        ratios = alternated(contender, floor, headers)
        contender.alternated = statistics.median(ratios)
        quartiles = statistics.quantiles(ratios, n=4)
        print(f"{contender.name:<44} x floor {contender.alternated:4.2f} (quartiles {quartiles[0]:4.2f} to "
              f"{quartiles[2]:4.2f}; windows {' '.join(f'{r:4.2f}' for r in ratios)})", flush=True)


def report(round_no: int, name: str, row: dict) -> None:
    """One measurement of one round."""
    print(f"round {round_no}  {name:<52} cpu/req {row['cpu_ms']:5.2f} ms   c=1 p50/direct {row['p50_ratio']:4.2f}   "
          f"c=16 {row['rps']:6.0f} req/s", flush=True)


def summary(everyone: list[Contender]) -> None:
    """Medians over the rounds. The ratios are paired: each round's figure over the same round's floor or seed."""
    seed_default, seed_floor_workers = pick(everyone, SEED), pick(everyone, SEED_FLOOR_WORKERS)
    floor = pick(everyone, FLOOR)

    def paired(contender: Contender, reference: Contender, figure: str) -> float:
        return statistics.median(r[figure] / ref[figure] for r, ref in zip(contender.rows, reference.rows, strict=True))

    print(f"\nmedian of {ROUNDS} rounds | CPU per request (c=16) | x floor | x floor, alternating | c=1 p50 / direct | "
          "c=16 req/s | x seed (default gunicorn) | x seed (gthread 2x8)")
    for contender in everyone:
        row = median_row(contender)
        alternating = "1.00" if contender is floor else f"{contender.alternated:4.2f}" if contender.alternated else "-"
        print(f"{contender.name:<44} | {row['cpu_ms']:5.2f} ms | {paired(contender, floor, 'cpu_ms'):4.2f} | "
              f"{alternating:>4} | "
              f"{row['p50_ratio']:4.2f} | {row['rps']:6.0f} | {paired(contender, seed_default, 'rps'):4.1f} | "
              f"{paired(contender, seed_floor_workers, 'rps'):4.1f}", flush=True)


if __name__ == "__main__":
    main()
