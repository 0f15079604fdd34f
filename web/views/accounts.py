"""GET /stackone_accounts and DELETE /stackone_accounts/<id>: the caller's own accounts, never credentials."""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from marshmallow import ValidationError, fields

from errors import AccountNotFound
from extensions import services
from logs.audit import audit
from policy.decide import require_enabled
from schemas.answers import AccountsAnswerSchema
from schemas.owner_fields import refuse_owner_fields
from schemas.session_request import ACCOUNT_ID, PROVIDER_KEY, StrictSchema
from web.login import current_owner

bp = Blueprint("accounts", __name__)
ACCOUNTS_ANSWER = AccountsAnswerSchema()


class AccountsQuerySchema(StrictSchema):
    """?provider= is the only filter; the owner always comes from the login."""

    provider = fields.String(validate=PROVIDER_KEY)


ACCOUNTS_QUERY = AccountsQuerySchema()


@bp.get("/stackone_accounts")
def list_accounts():
    """List the owner's accounts (every page, every status), optionally for one provider."""
    owner = current_owner()
    refuse_owner_fields(request.args.keys())
    query = ACCOUNTS_QUERY.load(request.args.to_dict(flat=True))
    directory = services().accounts
    provider = query.get("provider")
    # Checked before any lookup: an arbitrary key would cost a StackOne call and a cache entry each.
    require_enabled(provider, directory)
    accounts = directory.owner_accounts(owner.id, provider, include_archived=True)
    return jsonify(ACCOUNTS_ANSWER.dump({"data": [
        {"id": a.id, "provider": a.provider, "providerName": a.provider_name, "status": a.status, "label": a.label,
         "originUsername": a.origin_username, "createdAt": a.created_at, "updatedAt": a.updated_at,
         "statusReasons": list(a.status_reasons), "needsReconnect": a.needs_reconnect, "type": a.type}
        for a in accounts
    ]}))


@bp.delete("/stackone_accounts/<account_id>")
def disconnect_account(account_id: str):
    """Disconnect one of the caller's accounts (StackOne's DELETE /accounts/{id}); 204, or 404 if not theirs."""
    owner = current_owner()
    refuse_owner_fields(request.args.keys())
    try:
        ACCOUNT_ID(account_id)
    except ValidationError:
        # Not an id StackOne could have issued: the same answer as someone else's account, and nothing is sent.
        raise AccountNotFound(f"No account {account_id[:128]!r} belongs to your organisation") from None
    account = services().sessions.disconnect(owner, account_id)
    audit("account_disconnected", account_id=account.id, provider=account.provider)
    return "", 204
