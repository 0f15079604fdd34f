"""A saturated service, for real: nginx (docs/browser.md's snippet) in front of one gevent worker that takes two
connections at a time, StackOne slow. Requests that waited out their REQUEST_DEADLINE in the queue are answered at
once with 503 service_busy instead of being served late, and never reach StackOne."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.e2e_processes import free_port, gunicorn_stack, stop, wait_until_up
from tests.helpers import bearer
from tests.nginx_site import start_nginx

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.saturation_key_0123456789"
BUDGET = 1.5  # REQUEST_DEADLINE
LATENCY = 1.0  # each StackOne call


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """(the site through nginx, the sandbox) with StackOne answering in LATENCY seconds."""
    logs = tmp_path_factory.mktemp("saturation")
    service_port, site_port = free_port(), free_port()
    proxy = start_nginx(logs, site_port, service_port)  # first: skips (or fails) before the rest starts
    try:
        with gunicorn_stack(logs, key=KEY, port=service_port, WEB_CONCURRENCY="1", GUNICORN_WORKER_CONNECTIONS="2",
                            TRUSTED_PROXY_COUNT="1", REQUEST_DEADLINE=str(BUDGET), STACKONE_TIMEOUT="5",
                            OWNER_RATE_LIMIT="",
                            # Eight callers stand for eight distinct requests queueing: not one double-clicked
                            # request to share.
                            SESSION_REUSE_WINDOW="0") as stack:
            wait_until_up(f"http://127.0.0.1:{site_port}/stackone_providers", proxy)
            requests.post(f"{stack.sandbox_url}/sandbox/latency", json={"seconds": LATENCY},
                          timeout=5).raise_for_status()
            yield f"http://127.0.0.1:{site_port}", stack.sandbox_url
    finally:
        stop(proxy)


def test_requests_that_waited_out_their_budget_are_refused_at_once_and_never_reach_stackone(site):
    site_url, sandbox_url = site
    headers = bearer()

    def caller(_: int) -> tuple[int, str | None, str | None, float]:
        began = time.monotonic()
        answer = requests.post(f"{site_url}/stackone_connect_sessions", json={"category": "hris"}, headers=headers,
                               timeout=30)
        problem = answer.headers.get("Content-Type") == "application/problem+json"
        code = answer.json().get("code") if problem else None
        return answer.status_code, code, answer.headers.get("Retry-After"), time.monotonic() - began

    # Eight callers, two served at a time, each StackOne call taking 1 s: served in turn, the last pair would wait
    # about 4 s. With the deadline, a caller is served, or runs out of budget mid-call (504), or, still queued when
    # its budget is spent, is refused at once. Which caller meets which depends on the scheduling (a loaded machine
    # serves fewer); what holds whatever it is: no other answer, none late, no refused one at StackOne.
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(caller, range(8)))
    outcomes = sorted((status, code) for status, code, _, _ in answers)
    assert set(outcomes) <= {(200, None), (503, "service_busy"), (504, "upstream_timeout")}, outcomes
    assert all(retry == "1" for status, _, retry, _ in answers if status == 503)
    worst = max(wait for *_, wait in answers)
    assert worst < BUDGET + LATENCY, (worst, outcomes)  # served in turn, the last would wait about 4 s
    calls = requests.get(f"{sandbox_url}/sandbox/calls", timeout=5).json()
    sent = [c for c in calls if c == "POST /connect_sessions"]
    # The refused ones never reached StackOne (a 504 may not have either: too little budget left to start a call).
    assert len(sent) <= sum(status != 503 for status, *_ in answers), (len(sent), outcomes)
