"""GET /stackone_providers: the providers a page may offer, with their names and categories."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from extensions import services
from schemas.answers import ProvidersAnswerSchema
from schemas.owner_fields import refuse_owner_fields
from schemas.session_request import StrictSchema
from web.login import current_owner

bp = Blueprint("providers", __name__)
PROVIDERS_ANSWER = ProvidersAnswerSchema()
NO_PARAMETERS = StrictSchema()


@bp.get("/stackone_providers")
def list_providers():
    """The enabled providers (STACKONE_ENABLED_PROVIDERS, else the project's active connectors), by name."""
    current_owner()
    refuse_owner_fields(request.args.keys())
    NO_PARAMETERS.load(request.args.to_dict(flat=True))  # no parameters: anything sent is a 422
    return jsonify(PROVIDERS_ANSWER.dump({"data": [{"key": c.key, "name": c.name, "category": c.category}
                                                   for c in services().accounts.providers()]}))
