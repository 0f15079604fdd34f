"""POST /admin/offboard: the offboarding command over HTTP, for an operator credential (ADMIN_TOKEN) only.

Never an owner's own login: a customer's user must not be able to delete the organisation's connections in bulk.
Unset ADMIN_TOKEN: the route does not exist (404). Kept off /stackone_ so the browser routes' CORS never covers it.
"""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, jsonify, request

from connections.offboarding import offboard
from errors import Unauthorized
from extensions import services
from logs.audit import audit
from schemas.offboard import OffboardAnswerSchema, OffboardRequestSchema
from web.body import read_json_object

bp = Blueprint("admin", __name__)


OFFBOARD_REQUEST, OFFBOARD_ANSWER = OffboardRequestSchema(), OffboardAnswerSchema()


@bp.post("/admin/offboard")
def offboard_owner():
    """Delete every StackOne account of one owner (resumable), or list them with dryRun."""
    svc = services()
    token = svc.settings.serving.admin_token
    if token is None:
        abort(404)
    offered = request.headers.get("Authorization", "")
    if not hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        audit("refused", code="admin_unauthorized", status=401)
        raise Unauthorized("This route takes the operator's ADMIN_TOKEN as 'Authorization: Bearer <token>'")
    wanted = OFFBOARD_REQUEST.load(read_json_object())
    summary = offboard(wanted["ownerId"], client=svc.client, monitor=svc.connections, dry_run=wanted["dryRun"],
                       via="http")
    # 200 either way: `complete` false (with the accounts in `failed`) asks for a rerun, which finishes the job.
    return jsonify(OFFBOARD_ANSWER.dump(summary.as_json()))
