"""The StackOne client against `responses`: what it sends, how it pages, retries, and maps every failure."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
import requests
from responses import matchers

from errors import (
    AccountNotFound,
    ProviderNotEnabled,
    StackOneError,
    UpstreamAuthFailed,
    UpstreamBusy,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnreachable,
)
from stackone.client import StackOneClient
from tests.helpers import API, API_KEY, account, session_answer, timeout_of

PAYLOAD = {"origin_owner_id": "org-1", "origin_owner_name": "Acme Inc", "provider": "bamboohr"}


@pytest.fixture
def client():
    c = StackOneClient(API, API_KEY, timeout=3.5)
    yield c
    c.close()


def test_create_sends_basic_auth_json_and_a_timeout(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer(auth_link_url="https://hub/x?token=t"),
                  match=[matchers.json_params_matcher(PAYLOAD),
                         matchers.header_matcher({"Authorization": requests.auth._basic_auth_str(API_KEY, "")})])
    session = client.create_connect_session(PAYLOAD)
    assert session.token == "sess_tok_abcdef123456" and session.auth_link_url == "https://hub/x?token=t"
    assert timeout_of(stackone.calls[0]) == 3.5


def test_list_accounts_follows_every_page_and_reads_both_shapes(client, stackone, monkeypatch):
    monkeypatch.setattr("stackone.client.PAGE_SIZE", 2)
    base = {"origin_owner_id": "org-1", "providers": "bamboohr", "page_size": "2"}
    stackone.get(f"{API}/accounts", json=[account("a1"), account("a2")],
                 match=[matchers.query_param_matcher({**base, "page": "1"})])
    stackone.get(f"{API}/accounts", json={"data": [account("a3"), account("a4")]},
                 match=[matchers.query_param_matcher({**base, "page": "2"})])
    stackone.get(f"{API}/accounts", json=[account("a5")], match=[matchers.query_param_matcher({**base, "page": "3"})])
    accounts = client.list_accounts("org-1", "bamboohr")
    assert [a.id for a in accounts] == ["a1", "a2", "a3", "a4", "a5"]
    assert all(timeout_of(for_timeout) == 3.5 for for_timeout in stackone.calls)


def test_list_accounts_stops_when_the_server_ignores_page(client, stackone, monkeypatch):
    monkeypatch.setattr("stackone.client.PAGE_SIZE", 2)
    stackone.get(f"{API}/accounts", json=[account("a1"), account("a2")])
    assert [a.id for a in client.list_accounts("org-1")] == ["a1", "a2"]
    assert len(stackone.calls) == 2


def test_an_owners_list_holds_only_that_owners_accounts_of_the_provider_asked(client, stackone):
    stackone.get(f"{API}/accounts", json=[account("a1"), account("x1", owner="org-2"), account("h1", provider="hibob"),
                                          account("n1", owner=None)])
    assert [a.id for a in client.list_accounts("org-1", "bamboohr")] == ["a1"]


def test_the_project_wide_pages_keep_every_owner(client, stackone):
    stackone.get(f"{API}/accounts", json=[account("a1"), account("x1", owner="org-2")])
    assert [[a.id for a in page] for page in client.account_pages()] == [["a1", "x1"]]


def test_accounts_never_carry_credentials(client, stackone):
    stackone.get(f"{API}/accounts", json=[account("a1")])
    parsed = client.list_accounts("org-1")[0]
    assert "PROVIDER-SECRET" not in repr(parsed) and not hasattr(parsed, "credentials")


def test_get_account_returns_none_on_404(client, stackone):
    stackone.get(f"{API}/accounts/a%2F1", status=404, json={"statusCode": 404, "message": "Not found"})
    assert client.get_account("a/1") is None


def test_active_providers(client, stackone):
    stackone.get(f"{API}/connectors/meta", json=[
        {"provider": "bamboohr", "active": True}, {"provider": "workday", "active": False}])
    assert active(client) == frozenset({"bamboohr"})


@pytest.mark.parametrize(("status", "body", "error", "our_status"), [
    (400, {"statusCode": 400, "message": "provider is invalid"}, UpstreamRejected, 422),
    (422, {"statusCode": 422, "message": ["a must be x", "b must be y"]}, UpstreamRejected, 422),
    (401, {"statusCode": 401, "message": "Unauthorized"}, UpstreamAuthFailed, 502),
    (403, {"statusCode": 403, "message": "Forbidden"}, UpstreamAuthFailed, 502),
    (408, {"statusCode": 408, "message": "Timeout"}, UpstreamBusy, 503),
    (429, {"statusCode": 429, "message": "Too many"}, UpstreamBusy, 503),
    (412, {"statusCode": 412, "message": "Integration disabled"}, ProviderNotEnabled, 422),
    (500, {"statusCode": 500, "message": "boom"}, StackOneError, 502),
    (502, "<html>bad gateway</html>", StackOneError, 502),
])
def test_error_statuses_map_to_our_errors(client, stackone, status, body, error, our_status):
    kwargs = {"json": body} if isinstance(body, dict) else {"body": body}
    stackone.post(f"{API}/connect_sessions", status=status, headers={"Retry-After": "7"}, **kwargs)
    with pytest.raises(error) as raised:
        client.create_connect_session(PAYLOAD)
    assert type(raised.value) is error and raised.value.status == our_status
    assert "<html>" not in raised.value.detail and API_KEY not in raised.value.detail


def test_rejection_passes_stackones_message_on(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=422, json={"statusCode": 422, "message": ["a bad", "b bad"]})
    with pytest.raises(UpstreamRejected, match="a bad; b bad"):
        client.create_connect_session(PAYLOAD)


def test_busy_carries_a_capped_retry_after(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=429, headers={"Retry-After": "3600"}, json={"message": "slow"})
    with pytest.raises(UpstreamBusy) as raised:
        client.create_connect_session(PAYLOAD)
    assert raised.value.headers == {"Retry-After": "30"}


def test_404_on_an_account_session_is_account_not_found(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=404, json={"statusCode": 404, "message": "Account not found"})
    with pytest.raises(AccountNotFound):
        client.create_connect_session({**PAYLOAD, "account_id": "a1"})


@pytest.mark.parametrize("body", [{"id": 1}, {"token": ""}, {"token": None}, [1, 2]])
def test_answer_without_token_is_upstream_error(client, stackone, body):
    stackone.post(f"{API}/connect_sessions", status=201, json=body)
    with pytest.raises(StackOneError) as raised:
        client.create_connect_session(PAYLOAD)
    assert raised.value.code == "upstream_error"


def test_non_json_success_is_upstream_error(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=201, body="token=abc")
    with pytest.raises(StackOneError):
        client.create_connect_session(PAYLOAD)


def test_timeout_is_upstream_timeout(client, stackone):
    stackone.post(f"{API}/connect_sessions", body=requests.ReadTimeout("read timed out"))
    with pytest.raises(UpstreamTimeout) as raised:
        client.create_connect_session(PAYLOAD)
    assert raised.value.status == 504


def test_refused_connection_is_upstream_unreachable(client, stackone):
    stackone.get(f"{API}/connectors/meta", body=requests.ConnectionError("refused by 10.0.0.1"))
    with pytest.raises(UpstreamUnreachable) as raised:
        client.connectors()
    assert raised.value.status == 502 and "10.0.0.1" not in raised.value.detail


def test_gets_are_retried_on_busy_statuses(client, stackone):
    stackone.get(f"{API}/connectors/meta", status=503, json={"message": "down"})
    stackone.get(f"{API}/connectors/meta", status=429, json={"message": "slow"})
    stackone.get(f"{API}/connectors/meta", json=[{"provider": "hibob", "active": True}])
    assert active(client) == frozenset({"hibob"})
    assert len(stackone.calls) == 3


def test_gets_give_up_after_the_retries(client, stackone):
    stackone.get(f"{API}/connectors/meta", status=503, json={"message": "down"})
    with pytest.raises(StackOneError):
        client.connectors()
    assert len(stackone.calls) == 3  # the first try and two retries


def test_post_is_not_retried_on_a_status(client, stackone):
    stackone.post(f"{API}/connect_sessions", status=503, json={"message": "down"})
    with pytest.raises(StackOneError):
        client.create_connect_session(PAYLOAD)
    assert len(stackone.calls) == 1


def test_client_repr_hides_the_key(client):
    assert API_KEY not in repr(client)



def test_cookies_set_by_stackone_are_never_sent_back(client, stackone):
    stackone.get(f"{API}/connectors/meta", json=[], headers={"Set-Cookie": "lb=owner-1-sticky; Path=/"})
    stackone.get(f"{API}/connectors/meta", json=[])
    client.connectors()
    client.connectors()
    assert "Cookie" not in stackone.calls[1].request.headers


@pytest.mark.parametrize("status", [408, 429])
@pytest.mark.parametrize(("header", "expected"), [("inf", "30"), ("1e400", "30"), ("-inf", "1"), ("nan", "1"),
                                                   ("-5", "1"), ("soon", "1"), ("", "1")])
def test_odd_retry_after_values_are_clamped(client, stackone, status, header, expected):
    stackone.post(f"{API}/connect_sessions", status=status, headers={"Retry-After": header}, json={"message": "x"})
    with pytest.raises(UpstreamBusy) as raised:
        client.create_connect_session(PAYLOAD)
    assert raised.value.headers == {"Retry-After": expected}


def test_an_http_date_retry_after_is_honoured(client, stackone):
    from email.utils import format_datetime

    when = format_datetime(datetime.now(UTC) + timedelta(seconds=12), usegmt=True)
    stackone.post(f"{API}/connect_sessions", status=429, headers={"Retry-After": when}, json={"message": "x"})
    with pytest.raises(UpstreamBusy) as raised:
        client.create_connect_session(PAYLOAD)
    assert 9 <= int(raised.value.headers["Retry-After"]) <= 12
    later = format_datetime(datetime.now(UTC) + timedelta(hours=2), usegmt=True)
    stackone.post(f"{API}/connect_sessions", status=429, headers={"Retry-After": later}, json={"message": "x"})
    with pytest.raises(UpstreamBusy) as capped:
        client.create_connect_session(PAYLOAD)
    assert capped.value.headers == {"Retry-After": "30"}


DEEP = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize("status", [201, 400, 429, 500])
def test_a_deeply_nested_answer_is_upstream_error_or_its_mapping(client, stackone, status):
    stackone.post(f"{API}/connect_sessions", status=status, body=DEEP, content_type="application/json")
    with pytest.raises(StackOneError) as raised:
        client.create_connect_session(PAYLOAD)
    assert raised.value.status in (502, 503, 422) and "[[[" not in raised.value.detail
    if status in (201, 500):
        assert raised.value.code == "upstream_error"


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirects_are_never_followed(client, stackone, status):
    stackone.post(f"{API}/connect_sessions", status=status, headers={"Location": "https://elsewhere.test/take"})
    with pytest.raises(StackOneError) as raised:
        client.create_connect_session(PAYLOAD)
    assert (raised.value.status, raised.value.code) == (502, "upstream_error")
    assert len(stackone.calls) == 1  # sent once, and not to elsewhere.test (responses would refuse that call)


def test_a_redirect_on_a_get_is_not_followed_either(client, stackone):
    stackone.get(f"{API}/connectors/meta", status=307, headers={"Location": f"{API}/connectors/meta2"})
    with pytest.raises(StackOneError):
        client.connectors()
    assert len(stackone.calls) == 1


def test_stackones_message_is_scrubbed_before_it_is_passed_on(client, stackone):
    basic = base64.b64encode(f"{API_KEY}:".encode()).decode()
    message = f"bad\nrequest\r\n2026-11-22 CRITICAL forged \x1b[31m cst_abcdef1234567890 Basic {basic} {basic} end"
    stackone.post(f"{API}/connect_sessions", status=400, json={"statusCode": 400, "message": message})
    with pytest.raises(UpstreamRejected) as raised:
        client.create_connect_session(PAYLOAD)
    detail = raised.value.detail
    assert not any(ord(ch) < 0x20 for ch in detail)
    assert "cst_abcdef1234567890" not in detail and basic.rstrip("=") not in detail and API_KEY not in detail
    assert detail.startswith("bad request") and detail.endswith("end")


def test_the_environment_is_read_once_at_start_up_and_every_call_uses_it(monkeypatch, stackone):
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/private-ca.pem")
    proxied = StackOneClient(API, API_KEY, timeout=1)
    # Changed after start-up: not seen, as any setting.
    monkeypatch.setenv("HTTPS_PROXY", "http://elsewhere.internal:3128")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/other.pem")
    stackone.post(f"{API}/connect_sessions", status=201, json=session_answer())
    stackone.get(f"{API}/accounts", json=[])
    proxied.create_connect_session(PAYLOAD)
    proxied.list_accounts("org-1")
    for call in stackone.calls:
        assert call.request.req_kwargs["proxies"] == {"https": "http://proxy.internal:3128"}
        assert call.request.req_kwargs["verify"] == "/etc/ssl/private-ca.pem"
    monkeypatch.setenv("NO_PROXY", "stackone.test")
    assert StackOneClient(API, API_KEY, timeout=1)._session.proxies == {}


def test_every_call_carries_our_headers_and_one_basic_credential(client, stackone):
    stackone.get(f"{API}/accounts", json=[], match=[matchers.header_matcher({
        "Authorization": requests.auth._basic_auth_str(API_KEY, ""), "Accept": "application/json",
        "User-Agent": "stackone-connect-backend"})])
    client.list_accounts("org-1", "bamboohr")
    sent = stackone.calls[0].request
    assert sent.headers["Authorization"].count("Basic ") == 1
    assert sent.url == f"{API}/accounts?origin_owner_id=org-1&page_size=100&providers=bamboohr&page=1"


def active(client) -> frozenset[str]:
    """The enabled provider keys, as the account directory derives them from the connector list."""
    return frozenset(c.key for c in client.connectors() if c.active)
