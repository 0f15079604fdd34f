"""GET /stackone_accounts: the caller's own linked accounts, without credentials or setup information."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from marshmallow import fields

from errors import ProviderNotEnabled
from schemas.owner_fields import refuse_owner_fields
from schemas.session_request import PROVIDER_KEY, StrictSchema
from services import current_owner, services

bp = Blueprint("accounts", __name__)


class AccountsQuerySchema(StrictSchema):
    """?provider= is the only filter; the owner always comes from the login."""

    provider = fields.String(validate=PROVIDER_KEY)


@bp.get("/stackone_accounts")
def list_accounts():
    """List the owner's accounts (every page, every status), optionally for one provider."""
    owner = current_owner()
    refuse_owner_fields(request.args.keys())
    query = AccountsQuerySchema().load(request.args.to_dict(flat=True))
    directory = services().accounts
    provider = query.get("provider")
    # Checked before any lookup: an arbitrary key would cost a StackOne call and a cache entry each.
    if provider and provider not in directory.enabled_providers():
        raise ProviderNotEnabled(f"The provider {provider!r} is not enabled for this StackOne project")
    accounts = directory.owner_accounts(owner.id, provider, include_archived=True)
    return jsonify({"data": [
        {"id": a.id, "provider": a.provider, "providerName": a.provider_name, "status": a.status, "label": a.label,
         "originUsername": a.origin_username, "createdAt": a.created_at, "updatedAt": a.updated_at}
        for a in accounts
    ]})
