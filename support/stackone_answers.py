"""StackOne-shaped answers (and the key and URL they are played under), made independently of the code under test."""

from __future__ import annotations

API_KEY = "v1.test.sk_live_secret_api_key_123456"
API = "https://stackone.test"


def account(account_id="acc-1", provider="bamboohr", owner="org-1", **fields):
    """A StackOne LinkedAccount, secrets included, as GET /accounts returns it."""
    return {
        "id": account_id, "provider": provider, "provider_name": provider.title(), "status": "active",
        "status_reasons": [], "origin_owner_id": owner, "origin_owner_name": "Acme Inc",
        "origin_username": "ann@acme.test", "label": None, "type": "production",
        "created_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-02T00:00:00.000Z",
        "credentials": {"api_key": "PROVIDER-SECRET"}, "setup_information": {"subdomain": "acme"}, **fields,
    }


def session_answer(token="sess_tok_abcdef123456", **fields):
    """StackOne's 201 answer to POST /connect_sessions."""
    return {"id": 7, "organization_id": "1", "project_id": "p1", "origin_owner_id": "org-1",
            "origin_owner_name": "Acme Inc", "created_at": "2026-11-21T00:00:00Z", "token": token, **fields}
