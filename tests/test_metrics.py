"""Prometheus metrics: on the metrics listener only, bounded labels, and one scrape summing gunicorn's workers."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from app import create_app
from tests.helpers import API, bearer, login, session_answer
from web.listeners import LISTENER_KEY, METRICS


def sample(text: str, name: str, **labels) -> float:
    """The value of one sample in Prometheus' text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        match = re.fullmatch(rf"{name}\{{(.*)\}} (\S+)", line)
        if match and all(part in match.group(1).split(",") for part in wanted.split(",")):
            return float(match.group(2))
    return 0.0


ON_METRICS_LISTENER = {LISTENER_KEY: METRICS}  # what gunicorn's worker stamps on a request from that socket


@pytest.fixture
def metered(env):
    env["METRICS_BIND"] = "127.0.0.1:9100"
    client = create_app(env).test_client()
    client.scrape = lambda: client.get("/metrics", environ_overrides=ON_METRICS_LISTENER)
    return client


def test_the_metrics_answer_only_on_the_metrics_listener(client, metered):
    assert client.get("/metrics", environ_overrides=ON_METRICS_LISTENER).status_code == 404  # METRICS_BIND unset
    # Port, host and forwarded headers are the client's to choose: none of them is the metrics listener.
    assert metered.get("/metrics", base_url="http://127.0.0.1:9100").status_code == 404
    assert metered.get("/metrics", headers={"X-Forwarded-Host": "x:9100"}).status_code == 404
    scrape = metered.scrape()
    assert scrape.status_code == 200 and scrape.mimetype == "text/plain"


def test_the_metrics_listener_serves_nothing_but_the_scrape_and_liveness(metered, stackone):
    minted = metered.post("/stackone_connect_sessions", json={}, headers=bearer(),
                          environ_overrides=ON_METRICS_LISTENER)
    assert (minted.status_code, minted.mimetype) == (404, "application/problem+json")
    assert metered.get("/openapi.json", environ_overrides=ON_METRICS_LISTENER).status_code == 404
    assert metered.get("/healthz", environ_overrides=ON_METRICS_LISTENER).status_code == 200
    assert len(stackone.calls) == 0


def test_requests_calls_decisions_and_refusals_are_counted(metered, stackone):
    before = metered.scrape().get_data(as_text=True)
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    metered.post("/stackone_connect_sessions", json={}, headers=bearer())
    metered.post("/stackone_connect_sessions", json={"originOwnerId": "x"}, headers=bearer())
    metered.get("/nowhere/secret-owner-id")
    after = metered.scrape().get_data(as_text=True)

    def delta(name, **labels):
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta("http_requests_total", method="POST", route="/stackone_connect_sessions", status="200") == 1
    assert delta("http_requests_total", method="POST", route="/stackone_connect_sessions", status="400") == 1
    assert delta("http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert delta("stackone_requests_total", operation="create_session", outcome="2xx") == 1
    assert delta("connect_decisions_total", action="create") == 1
    assert delta("refusals_total", code="owner_fields_forbidden") == 1
    assert "http_request_duration_seconds_bucket" in after and "stackone_request_duration_seconds_count" in after
    assert "org-1" not in after and "secret-owner-id" not in after  # no owner id, no raw path in any label


@pytest.mark.e2e
def test_one_scrape_sums_every_worker(tmp_path):
    from tests.e2e_processes import free_port, gunicorn_stack

    metrics_port = free_port()
    with gunicorn_stack(tmp_path, key="v1.x.metrics_0123456789", sandbox=False,
                        METRICS_BIND=f"127.0.0.1:{metrics_port}", STACKONE_API_URL="http://127.0.0.1:9",
                        PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "prometheus")) as stack:
        port = stack.url.rsplit(":", 1)[1]
        sent = 0
        folder = tmp_path / "prometheus"
        while sent < 600 and len({p.name for p in folder.glob("counter_*.db")}) < 2:
            # Concurrent new connections until both workers have taken some (the kernel picks who accepts).
            with ThreadPoolExecutor(20) as pool:
                list(pool.map(lambda _: requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5,
                                                     headers={"Connection": "close"}), range(20)))
            sent += 20
        requests.post(f"http://127.0.0.1:{port}/stackone_connect_sessions", json={"originOwnerId": "x"},
                      headers={"Authorization": f"Bearer {login()}"}, timeout=5)
        assert requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).status_code == 404
        text = requests.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5).text
        # Every request counted once, whichever worker took it (+1 or 2 for the start-up probe).
        assert sent + 1 <= sample(text, "http_requests_total", method="GET", route="/healthz", status="200") <= sent + 2
        assert sample(text, "refusals_total", code="owner_fields_forbidden") == 1
        workers = {p.name.split("_")[-1] for p in folder.glob("counter_*.db")}
        assert len(workers) >= 2  # both workers counted into the one answer
