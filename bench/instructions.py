"""Per request, counted by callgrind in the gunicorn worker: instructions and estimated cycles, floor and service.

CPU seconds from /proc move by a quarter between rounds on this shared 2-core VM; callgrind's counts do not. Each
contender runs as one gunicorn worker under `valgrind --tool=callgrind` with its cache and branch simulation, not
instrumented (near native speed) while it boots and answers a warm-up of every owner once (login cache, account
cache, limit). Then SIGUSR2 turns counting on, a fixed number of requests are sent (one at a time, or from
BENCH_INSTR_CLIENTS clients at once), and a second SIGUSR2 dumps (bench/callgrind: a C probe with callgrind's client
requests, built here with gcc, and a gunicorn settings wrapper).

Counted: the worker's user-space work, gunicorn's parsing, Flask, requests, and whatever we add. Not counted: the
kernel's share (sockets, TLS records, log writes). Estimated cycles (CEst) weigh cache misses and mispredicted
branches as KCachegrind does, so a longer or more scattered path shows. Work driven by the clock (a sweep once a
minute, gunicorn's heartbeat) runs as often per second under valgrind's slowdown as it does natively, so per
request it is over-counted here, alike for every contender. Run by `make bench`.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.contenders import Contender, pick  # noqa: E402
from bench.provider_cost import NEVER_REACHED  # noqa: E402
from bench.tls_standin import KEY, certificate, start_standin, wait_for_standin  # noqa: E402
from support.logins import JWT_SECRET, login  # noqa: E402
from support.processes import ROOT, free_port, start, stop, wait_until_up  # noqa: E402

OWNERS = int(os.environ.get("BENCH_INSTR_OWNERS", "50"))
REQUESTS = int(os.environ.get("BENCH_INSTR_REQUESTS", "300"))
# Concurrent clients for the counted requests (1: one at a time). The timed bench runs c=16; counting at c=16 shows
# whether interleaved requests cost more than one at a time.
CLIENTS = int(os.environ.get("BENCH_INSTR_CLIENTS", "1"))
WRAPPER = str(ROOT / "bench" / "callgrind" / "gunicorn_conf.py")
BENCH = ["-m", "gunicorn", "-c", WRAPPER, "--chdir", "bench", "-w", "1", "--timeout", "600"]
SERVICE = ["-m", "gunicorn", "-c", WRAPPER, "wsgi:app"]
BASE_CONFIG = {"bench": str(ROOT / "bench" / "plain_gunicorn.py"), "service": str(ROOT / "gunicorn.conf.py")}
SERVICE_ENV = {"WEB_CONCURRENCY": "1", "GUNICORN_TIMEOUT": "600", "OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": JWT_SECRET,
               "STACKONE_ENABLED_PROVIDERS": "bamboohr", "STACKONE_WEBHOOK_SECRETS": "whsec_bench_0123456789",
               "ACCOUNT_CACHE_TTL": "3600"}
CATEGORY, PROVIDER, SEED_BODY = {"category": "hris"}, {"provider": "bamboohr"}, {"originUsername": "ann@acme.test"}
# Every feature on (issue 27's hot-path goal): live-session reuse (the default window), the per-owner limit, metrics,
# INFO access and audit lines, APP_WEBHOOK_URL set (events tracked; the background loop ticks in the worker),
# StackOne's budget counted; FEATURE_OWNERS owners take turns, each with their own login, and each request is a first
# click (its own label: a new decision, so the reuse claim, the mint and the kept record all happen).
FEATURE_OWNERS = int(os.environ.get("BENCH_INSTR_FEATURE_OWNERS", "2000"))
FIRST_CLICK = "first click"  # a body with a fresh label per request
EVERY_FEATURE_ENV = {**SERVICE_ENV, "SESSION_REUSE_WINDOW": "60", "APP_WEBHOOK_URL": "http://127.0.0.1:9/events",
                     "APP_WEBHOOK_SECRET": "whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}
# Contenders whose name contains one of these (comma-separated) are counted, with the floors; empty: every one.
ONLY = [part.strip() for part in os.environ.get("BENCH_INSTR_ONLY", "").split(",") if part.strip()]
FLOOR, GEVENT_FLOOR = "floor", "floor under gevent"  # the roles every ratio is taken against: always counted


CONTENDERS = [
    Contender("minimal pooled proxy, gthread (floor)", [*BENCH, "-k", "gthread", "--threads", "8", "minimal_proxy:app"],
              {}, SEED_BODY, role=FLOOR),
    Contender("minimal pooled proxy, gevent", [*BENCH, "-k", "gevent", "minimal_proxy:app"], {}, SEED_BODY,
              role=GEVENT_FLOOR),
    Contender("this service, category body", SERVICE, SERVICE_ENV, CATEGORY),
    Contender("this service, provider body (warm cache)", SERVICE, SERVICE_ENV, PROVIDER),
    Contender("this service, category body, lean", SERVICE,
              {**SERVICE_ENV, "LOG_LEVEL": "WARNING", "OWNER_RATE_LIMIT": ""}, CATEGORY),
    Contender("this service, every feature on, first click", SERVICE, EVERY_FEATURE_ENV,
              {**CATEGORY, FIRST_CLICK: True}),
    # What reuse's claim, sealing and kept record add to a first click: the same with SESSION_REUSE_WINDOW=0.
    Contender("this service, every feature on but reuse, first click", SERVICE,
              {**EVERY_FEATURE_ENV, "SESSION_REUSE_WINDOW": "0"}, {**CATEGORY, FIRST_CLICK: True}),
]


def build_probe(folder: Path) -> Path:
    """Compile bench/callgrind/probe.c into a shared library the workers load."""
    library = folder / "probe" / "probe.so"
    library.parent.mkdir()
    subprocess.run(["gcc", "-shared", "-fPIC", "-O1", "-o", str(library), str(ROOT / "bench/callgrind/probe.c")],
                   check=True)
    return library


def launch(contender: Contender, folder: Path, common: dict[str, str]) -> tuple[subprocess.Popen, str, Path]:
    """Start the contender's gunicorn under callgrind, uninstrumented; its URL and where callgrind writes."""
    port = free_port()
    out = folder / f"callgrind-{port}"
    out.mkdir()
    service = "wsgi:app" in contender.args
    bind = [] if service else ["--bind", f"127.0.0.1:{port}"]
    env = {**common, **contender.env, "BIND": f"127.0.0.1:{port}", "STATE_DIR": str(out / "state"),
           "PYTHONHASHSEED": "0", "BENCH_BASE_CONFIG": BASE_CONFIG["service" if service else "bench"],
           "BENCH_PROBE": str(folder / "probe" / "probe.so")}
    valgrind = ("valgrind", "--tool=callgrind", "--instr-atstart=no", "--cache-sim=yes", "--branch-sim=yes",
                f"--callgrind-out-file={out}/callgrind.%p")
    process = start([*contender.args, *bind], env, folder / f"{port}.log", runner=valgrind)
    return process, f"http://127.0.0.1:{port}", out


def worker_pid(master: int) -> int:
    """The one worker of a gunicorn master."""
    children = Path(f"/proc/{master}/task/{master}/children")
    for _ in range(600):
        pids = children.read_text().split() if children.exists() else []
        if pids:
            return int(pids[0])
        time.sleep(0.1)
    raise SystemExit("no gunicorn worker appeared")


def signal_worker(worker: int, marker: Path) -> None:
    """SIGUSR2 to the worker (start, then dump), and wait for its marker file: the toggle has happened."""
    os.kill(worker, signal.SIGUSR2)
    for _ in range(3000):
        if marker.exists():
            return
        time.sleep(0.1)
    raise SystemExit(f"worker {worker} did not answer SIGUSR2 ({marker.name})")


def post_all(url: str, body: dict, headers: list[dict], count: int, tag: str = "") -> None:
    """`count` c=1 POSTs over one keep-alive connection, cycling through the owners; every answer must be 2xx. A
    first-click body gets a label of its own for each request (`tag` keeps the warm-up's and each client's apart)."""
    fresh = body.pop(FIRST_CLICK, False) if FIRST_CLICK in body else False
    with requests.Session() as session:
        for n in range(count):
            sent = {**body, "label": f"{tag}{n}"} if fresh else body
            answer = session.post(f"{url}/stackone_connect_sessions", json=sent, headers=headers[n % len(headers)],
                                  timeout=120)
            if not answer.ok:
                raise SystemExit(f"{url}: answer {answer.status_code}: {answer.text[:200]}")


def count(contender: Contender, folder: Path, common: dict[str, str], headers: list[dict]) -> dict[str, float]:
    """Instructions per request in the contender's worker (Ir from callgrind), after a warm-up of every owner."""
    process, url, out = launch(contender, folder, common)
    try:
        wait_until_up(f"{url}/", process, seconds=600)
        worker = worker_pid(process.pid)
        post_all(url, dict(contender.body), headers, len(headers), "warm-")  # warm-up, not counted
        probe = folder / "probe"
        signal_worker(worker, probe / f"started.{worker}")
        with ThreadPoolExecutor(CLIENTS) as pool:  # REQUESTS split among the clients, each its own connection
            share = [REQUESTS // CLIENTS + (n < REQUESTS % CLIENTS) for n in range(CLIENTS)]
            list(pool.map(lambda n: post_all(url, dict(contender.body), headers[n::CLIENTS], share[n], f"c{n}-"),
                          range(CLIENTS)))
        signal_worker(worker, probe / f"dumped.{worker}")
    finally:
        stop(process)
    dumps = [events(f.read_text()) for f in out.glob(f"callgrind.{worker}*")]
    dump = max(dumps, key=lambda d: d.get("Ir", 0))  # the signal's (the one at exit counts nothing: no instrumenting)
    if not dump.get("Ir"):
        raise SystemExit(f"{contender.name}: callgrind wrote no dump for worker {worker}")
    return {name: value / REQUESTS for name, value in dump.items()}


def events(dump: str) -> dict[str, int]:
    """The totals of a callgrind dump by event name, plus CEst, callgrind's cycle estimate (KCachegrind's formula:
    Ir + 10 x (L1 misses + mispredicted branches) + 100 x last-level misses)."""
    names = re.search(r"^events: (.+)$", dump, re.M)
    totals = re.search(r"^totals: (.+)$", dump, re.M)
    if not names or not totals:
        return {}
    values = [int(v) for v in totals.group(1).split()]  # trailing zero counts may be left out
    counted = {name: values[n] if n < len(values) else 0 for n, name in enumerate(names.group(1).split())}
    l1 = sum(counted.get(k, 0) for k in ("I1mr", "D1mr", "D1mw"))
    last_level = sum(counted.get(k, 0) for k in ("ILmr", "DLmr", "DLmw"))
    branches = counted.get("Bcm", 0) + counted.get("Bim", 0)
    counted["CEst"] = counted.get("Ir", 0) + 10 * (l1 + branches) + 100 * last_level
    return counted


def main() -> None:
    """Count every contender in turn against one TLS stand-in; print instructions per request and the ratios."""
    if not shutil.which("valgrind"):
        raise SystemExit("bench/instructions.py needs valgrind (apt-get install valgrind)")
    folder = Path(tempfile.mkdtemp(prefix="bench-instr-"))
    build_probe(folder)
    cert, key = certificate(folder)
    standin_port = free_port()
    standin_url = f"https://127.0.0.1:{standin_port}"
    standin = start_standin(standin_port, 0.02, cert, key, folder / "standin.log")
    common = {"STACKONE_API_KEY": KEY, "STACKONE_API_URL": standin_url, "REQUESTS_CA_BUNDLE": cert,
              "STACKONE_RATE_LIMIT": NEVER_REACHED}
    logins = [{"Authorization": f"Bearer {login(org_id=f'org-{n}', org_name=f'Org {n}', exp_in=7200)}"}
              for n in range(max(OWNERS, FEATURE_OWNERS))]
    try:
        wait_for_standin(standin_url, cert)
        requests.post(f"{standin_url}/connect_sessions", json={}, verify=cert, timeout=5, headers={
            "Authorization": "Basic " + base64.b64encode(f"{KEY}:".encode()).decode()})
        print(f"callgrind: one gunicorn worker per contender; {OWNERS} owners warmed up, then {REQUESTS} requests "
              f"counted, from {CLIENTS} client(s) at once\n", flush=True)
        figures = {}
        for contender in [c for c in CONTENDERS if c.role or not ONLY or any(o in c.name for o in ONLY)]:
            owners = FEATURE_OWNERS if FIRST_CLICK in contender.body else OWNERS
            figures[contender.name] = count(contender, folder, common, logins[:owners])
            print(f"{contender.name:<44} {figures[contender.name]['Ir'] / 1e6:6.2f} M instructions/request", flush=True)
    finally:
        stop(standin)
    floor, gevent_floor = figures[pick(CONTENDERS, FLOOR).name], figures[pick(CONTENDERS, GEVENT_FLOOR).name]
    print("\nper request | instructions | x floor | x floor under gevent | estimated cycles | x floor | "
          "x floor under gevent")
    for name, value in figures.items():
        print(f"{name:<44} | {value['Ir'] / 1e6:5.2f} M | {value['Ir'] / floor['Ir']:4.2f} | "
              f"{value['Ir'] / gevent_floor['Ir']:4.2f} | {value['CEst'] / 1e6:5.2f} M | "
              f"{value['CEst'] / floor['CEst']:4.2f} | {value['CEst'] / gevent_floor['CEst']:4.2f}", flush=True)


if __name__ == "__main__":
    main()
