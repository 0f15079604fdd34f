"""StackOne's account endpoints, played: list (filtered, paged), get, delete; and the connectors' metadata."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from sandbox.rules import account_filter, account_matches
from sandbox.site import error, site
from sandbox.state import ACTIVE, CONNECTORS

accounts_api = Blueprint("accounts_api", __name__)


@accounts_api.get("/accounts")
def list_accounts():
    """GET /accounts: one page of the accounts the filters match."""
    filters, errors = account_filter(request.args)
    if errors:
        return error(400, errors)
    project = site().project
    found = [a for a in list(project.accounts.values()) if account_matches(a, filters)]
    page, size = filters["page"], filters["size"]
    if project.max_page_size:
        size = min(size, project.max_page_size)  # cut silently: the caller cannot tell a short page is not last
    return jsonify(found[(page - 1) * size: page * size])


@accounts_api.get("/accounts/<account_id>")
def get_account(account_id: str):
    """GET /accounts/<id>."""
    account = site().project.accounts.get(account_id)
    return jsonify(account) if account else error(404, "Account not found")


@accounts_api.delete("/accounts/<account_id>")
def delete_account(account_id: str):
    """DELETE /accounts/<id>, with its account.deleted webhook."""
    try:
        account = site().project.delete(account_id)
    except LookupError:
        return error(404, "Account not found")
    site().webhooks.deliver("account.deleted", account)
    return jsonify(account)


@accounts_api.get("/connectors/meta")
def connectors_meta():
    """GET /connectors/meta: every connector, active or not."""
    return jsonify([{"provider": key, "provider_name": name, "category": category, "active": key in ACTIVE,
                     "models": {}, "resources": {}} for key, (name, category) in CONNECTORS.items()])
