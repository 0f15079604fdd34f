"""Two users of one organisation over HTTP (gunicorn and the sandbox as real processes): reuse is one person's, a
link is never a session's twin, and caps free themselves (the holder gets their session again; a closed hub
releases its place)."""

from __future__ import annotations

import pytest
import requests

from tests.e2e_processes import gunicorn_stack, running_sandbox
from tests.helpers import login

pytestmark = pytest.mark.e2e
SANDBOX_KEY = "v1.sandbox.e2e_key_0123456789"


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory):
    """The sandbox, shared by both services below."""
    logs = tmp_path_factory.mktemp("colleagues")
    with running_sandbox(logs, SANDBOX_KEY) as url:
        yield url, logs


def service(sandbox, name: str, **env: str):
    """gunicorn (2 workers) on the sandbox with `env`; a generator for a fixture."""
    sandbox_url, logs = sandbox
    with gunicorn_stack(logs, key=SANDBOX_KEY, name=name, sandbox_url=sandbox_url, **env) as stack:
        yield stack.url


@pytest.fixture(scope="module")
def reusing(sandbox):
    """Reuse on (its default window), no caps."""
    yield from service(sandbox, "reusing")


@pytest.fixture(scope="module")
def capped(sandbox):
    """The docs' caps, reuse off: what frees a place must not depend on the reuse window."""
    yield from service(sandbox, "capped", ACCOUNT_LIMITS="total=3,hibob=1", SESSION_REUSE_WINDOW="0")


def as_user(org: str, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {login(org_id=org, org_name='Colleagues Ltd', email=email)}"}


def post(url: str, path: str, body: dict, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{url}{path}", json=body, headers=headers, timeout=15)


def minted_for(sandbox_url: str, org: str) -> list[dict]:
    """The connect-session bodies StackOne received for this organisation, in order."""
    recorded = requests.get(f"{sandbox_url}/sandbox/requests", timeout=10).json()
    return [r["body"] for r in recorded if r["method"] == "POST" and r["path"].endswith("/connect_sessions")
            and (r["body"] or {}).get("origin_owner_id") == org]


def test_a_colleague_gets_a_session_of_their_own_and_a_link_is_never_a_sessions_twin(reusing, sandbox):
    ann, bob = as_user("org-two-users", "ann@colleagues.test"), as_user("org-two-users", "bob@colleagues.test")
    anns = post(reusing, "/stackone_connect_sessions", {"provider": "hibob"}, ann).json()["token"]
    bobs = post(reusing, "/stackone_connect_sessions", {"provider": "hibob"}, bob).json()["token"]
    again = post(reusing, "/stackone_connect_sessions", {"provider": "hibob"}, ann).json()["token"]
    link = post(reusing, "/stackone_auth_links", {"provider": "hibob", "expiresIn": 1800}, ann).json()["token"]
    assert again == anns  # one person's double click or reload: the same session
    assert len({anns, bobs, link}) == 3
    # StackOne records who connects: each session names its own user.
    assert [b["origin_username"] for b in minted_for(sandbox[0], "org-two-users")] == [
        "ann@colleagues.test", "bob@colleagues.test", "ann@colleagues.test"]


def test_the_holder_gets_their_pending_session_again_and_a_colleague_is_told_who_holds_the_place(capped):
    ann, bob = as_user("org-held", "ann@colleagues.test"), as_user("org-held", "bob@colleagues.test")
    first = post(capped, "/stackone_connect_sessions", {"provider": "hibob"}, ann)
    again = post(capped, "/stackone_connect_sessions", {"provider": "hibob"}, ann)
    assert first.status_code == again.status_code == 200 and again.json()["token"] == first.json()["token"]
    refused = post(capped, "/stackone_connect_sessions", {"provider": "hibob"}, bob)
    problem = refused.json()
    assert (refused.status_code, problem["code"]) == (409, "account_limit")
    assert problem["pending"] == [{"provider": "hibob", "username": "ann@colleagues.test", "kind": "session",
                                   "expiresAt": first.json()["expiresAt"]}]
    assert "held by ann@colleagues.test" in problem["detail"] and "closed without connecting" in problem["detail"]


def test_hubs_closed_without_connecting_free_their_places(capped):
    ann = as_user("org-closed", "ann@colleagues.test")
    for provider in ("bamboohr", "hibob", "greenhouse"):
        opened = post(capped, "/stackone_connect_sessions", {"provider": provider}, ann)
        assert opened.status_code == 200, opened.text
        closed = post(capped, "/stackone_connect_sessions/release", {"token": opened.json()["token"]}, ann)
        assert closed.status_code == 204
    # Three hubs opened and closed: nothing is connected, nothing pending, so a fourth may open.
    fourth = post(capped, "/stackone_connect_sessions", {"provider": "salesforce"}, ann)
    assert fourth.status_code == 200, fourth.text
    listed = requests.get(f"{capped}/stackone_accounts", headers=ann, timeout=15)
    assert listed.status_code == 200 and listed.json()["data"] == []
