"""GET /stackone_accounts: only the caller's accounts, every page, nothing of credentials."""

from __future__ import annotations

import pytest
from responses import matchers

from tests.helpers import API, account, bearer

URL = "/stackone_accounts"


def test_lists_only_the_owners_accounts_without_secrets(client, stackone, monkeypatch):
    monkeypatch.setattr("stackone.client.PAGE_SIZE", 2)
    stackone.get(f"{API}/accounts", json=[account("a1", label="EU"), account("x1", owner="org-2")],
                 match=[matchers.query_param_matcher({"origin_owner_id": "org-1", "page": "1", "page_size": "2"})])
    stackone.get(f"{API}/accounts", json={"data": [account("a2", provider="hibob", status="archived", type="test")]},
                 match=[matchers.query_param_matcher({"origin_owner_id": "org-1", "page": "2", "page_size": "2"})])
    response = client.get(URL, headers=bearer())
    assert response.status_code == 200
    assert response.get_json() == {"data": [
        {"id": "a1", "provider": "bamboohr", "providerName": "Bamboohr", "status": "active", "label": "EU",
         "originUsername": "ann@acme.test", "createdAt": "2026-01-01T00:00:00.000Z",
         "updatedAt": "2026-01-02T00:00:00.000Z", "statusReasons": [], "needsReconnect": False, "type": "production"},
        {"id": "a2", "provider": "hibob", "providerName": "Hibob", "status": "archived", "label": None,
         "originUsername": "ann@acme.test", "createdAt": "2026-01-01T00:00:00.000Z",
         "updatedAt": "2026-01-02T00:00:00.000Z", "statusReasons": [], "needsReconnect": False, "type": "test"},
    ]}
    text = response.get_data(as_text=True)
    assert "PROVIDER-SECRET" not in text and "subdomain" not in text and "x1" not in text


def test_provider_filter(client, stackone):
    stackone.get(f"{API}/accounts", json=[account("a1"), account("h1", provider="hibob")],
                 match=[matchers.query_param_matcher(
                     {"origin_owner_id": "org-1", "providers": "bamboohr", "page": "1", "page_size": "100"})])
    body = client.get(URL + "?provider=bamboohr", headers=bearer()).get_json()
    assert [a["id"] for a in body["data"]] == ["a1"]


@pytest.mark.parametrize(("query", "headers", "status", "code"), [
    ("?origin_owner_id=org-2", bearer(), 400, "owner_fields_forbidden"),
    ("?colour=red", bearer(), 422, "validation_error"),
    ("?provider=Not%20A%20Key", bearer(), 422, "validation_error"),
    ("", {}, 401, "unauthorized"),
])
def test_refusals(client, stackone, query, headers, status, code):
    response = client.get(URL + query, headers=headers)
    assert (response.status_code, response.get_json()["code"]) == (status, code)
    assert len(stackone.calls) == 0
