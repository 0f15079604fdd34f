"""Benchmark, side by side in one run: the seed's Flask example, a minimal pooled proxy, and this service (category and
provider bodies), each under gunicorn with 2 workers, against a TLS StackOne stand-in with a fixed service time.

Prints CPU per request (from /proc, the gunicorn master and workers), c=1 p50 over one direct round trip, c=16
throughput, and a slow-upstream run (StackOne at 2 s, 64 callers): callers past REQUEST_DEADLINE and the worst wait.
Loopback only; bounded in requests and time. Run with `make bench`.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.e2e_processes import free_port, start, stop, wait_until_up  # noqa: E402
from tests.helpers import JWT_SECRET, login  # noqa: E402

KEY = "v1.bench.floor_key_0123456789"
REQUESTS = int(os.environ.get("BENCH_FLOOR_REQUESTS", "1200"))
SERIAL = 150
PLAIN = ["-m", "gunicorn", "-c", "bench/plain_gunicorn.py", "-w", "2", "-k", "gthread", "--threads", "8",
         "--chdir", "bench"]
DELAY = 0.02
TICK = os.sysconf("SC_CLK_TCK")


def certificate(folder: Path) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (the stand-in's), written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(hours=1))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, encipher_only=False, decipher_only=False),
                           critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "standin.pem", folder / "standin.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return str(cert_path), str(key_path)


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


def load(url: str, body: dict, headers: dict, count: int, concurrency: int) -> tuple[list[float], float]:
    """count POSTs from `concurrency` keep-alive clients; (latencies, elapsed seconds)."""
    latencies: list[float] = []

    def client(n: int) -> None:
        session = requests.Session()
        for _ in range(n):
            began = time.perf_counter()
            answer = session.post(url, json=body, headers=headers, timeout=30)
            latencies.append(time.perf_counter() - began)
            assert answer.status_code == 200, answer.text[:200]

    began = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(client, [count // concurrency] * concurrency))
    return latencies, time.perf_counter() - began


def measure(name: str, master: int, url: str, body: dict, headers: dict, direct_p50: float) -> dict:
    """c=1 p50 ratio, then CPU per request and throughput at c=16."""
    serial, _ = load(url, body, headers, SERIAL, 1)
    before = cpu_seconds(master)
    latencies, elapsed = load(url, body, headers, REQUESTS, 16)
    cpu_ms = (cpu_seconds(master) - before) / len(latencies) * 1000
    row = {"name": name, "cpu_ms": cpu_ms, "p50_ratio": statistics.median(serial) / direct_p50,
           "rps": len(latencies) / elapsed}
    print(f"{name:<44} cpu/req {cpu_ms:5.2f} ms   c=1 p50/direct {row['p50_ratio']:4.2f}   "
          f"c=16 {row['rps']:6.0f} req/s", flush=True)
    return row


def main() -> None:
    """Start the stand-in and each contender in turn; print the table and the slow-upstream run."""
    folder = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    cert, key = certificate(folder)
    standin_port = free_port()
    standin_url = f"https://127.0.0.1:{standin_port}"
    standin = start(["bench/standin.py", str(standin_port), str(DELAY), cert, key], {}, folder / "standin.log")
    common = {"STACKONE_API_KEY": KEY, "STACKONE_API_URL": standin_url, "REQUESTS_CA_BUNDLE": cert}
    contenders = [
        ("StackOne's Flask example (new TLS per call)", [*PLAIN, "seed_example:app"], {}),
        ("minimal Flask + pooled Session, gthread 2x8", [*PLAIN, "minimal_proxy:app"], {}),
        ("this service", ["-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], {
            "WEB_CONCURRENCY": "2", "OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": JWT_SECRET,
            "STACKONE_ENABLED_PROVIDERS": "bamboohr", "STACKONE_WEBHOOK_SECRETS": "whsec_bench_0123456789",
            "ACCOUNT_CACHE_TTL": "300", "OWNER_RATE_LIMIT": "", "STATE_DIR": str(folder / "state"),
            "LOG_LEVEL": "WARNING"}),
    ]
    try:
        direct = requests.Session()
        direct.verify = cert
        direct.trust_env = False  # else REQUESTS_CA_BUNDLE from the environment overrides verify (requests#3829)
        for _ in range(100):  # the stand-in speaks TLS only: wait for it with the same session
            try:
                direct.get(f"{standin_url}/accounts", auth=(KEY, ""), timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        for _ in range(20):
            direct.post(f"{standin_url}/connect_sessions", json={}, auth=(KEY, ""), timeout=10)
        round_trips = []
        for _ in range(SERIAL):
            began = time.perf_counter()
            direct.post(f"{standin_url}/connect_sessions", json={}, auth=(KEY, ""), timeout=10)
            round_trips.append(time.perf_counter() - began)
        direct_p50 = statistics.median(round_trips)
        print(f"{REQUESTS} requests at c=16 each; stand-in over TLS with {DELAY * 1000:.0f} ms service time; "
              f"one direct round trip p50 {direct_p50 * 1000:.1f} ms; {os.cpu_count()} cores\n", flush=True)
        headers = {"Authorization": f"Bearer {login(exp_in=3600)}"}
        for name, args, env in contenders:
            port = free_port()
            bind = [] if "wsgi:app" in args else ["--bind", f"127.0.0.1:{port}"]
            process = start(args + bind, {**common, **env, "BIND": f"127.0.0.1:{port}"}, folder / f"{port}.log")
            try:
                wait_until_up(f"http://127.0.0.1:{port}/", process)
                url = f"http://127.0.0.1:{port}/stackone_connect_sessions"
                if name == "this service":
                    measure("this service, category body (one call)", process.pid, url, {"category": "hris"},
                            headers, direct_p50)
                    measure("this service, provider body (warm account cache)", process.pid, url,
                            {"provider": "bamboohr"}, headers, direct_p50)
                else:
                    measure(name, process.pid, url, {"originUsername": "ann@acme.test"}, headers, direct_p50)
            finally:
                stop(process)
        slow_upstream(folder, cert, key, headers)
    finally:
        stop(standin)


def slow_upstream(folder: Path, cert: str, key: str, headers: dict) -> None:
    """StackOne answering in 2 s, 64 callers for 20 s: how many waited past REQUEST_DEADLINE, and the worst."""
    port, service_port = free_port(), free_port()
    slow = start(["bench/standin.py", str(port), "2.0", cert, key], {}, folder / "slow.log")
    service = start(["-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], {
        "STACKONE_API_KEY": KEY, "STACKONE_API_URL": f"https://127.0.0.1:{port}", "REQUESTS_CA_BUNDLE": cert,
        "BIND": f"127.0.0.1:{service_port}", "WEB_CONCURRENCY": "2", "OWNER_AUTH": "jwt",
        "OWNER_JWT_SECRET": JWT_SECRET, "OWNER_RATE_LIMIT": "", "STATE_DIR": str(folder / "slow-state"),
        "STACKONE_ENABLED_PROVIDERS": "bamboohr", "LOG_LEVEL": "WARNING"}, folder / "slow-service.log")
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
        deadline = 12.0
        late = sum(w > deadline for w in waits)
        print(f"\nslow upstream (2 s per call, 64 callers, 20 s): {len(waits)} answers "
              f"({statuses.count(200)} x 200), {late} past the {deadline:g} s deadline, worst wait {max(waits):.2f} s",
              flush=True)
    finally:
        stop(service)
        stop(slow)


if __name__ == "__main__":
    main()
