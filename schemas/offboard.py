"""POST /admin/offboard's request and answer, as marshmallow schemas (the view loads and the OpenAPI document says)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from schemas.session_request import StrictSchema
from schemas.strict_fields import StrictBoolean


class OffboardRequestSchema(StrictSchema):
    """Whose accounts to delete, and whether only to list them."""

    ownerId = fields.String(required=True, validate=validate.Length(min=1, max=255))  # noqa: N815 - wire name
    dryRun = StrictBoolean(load_default=False)  # noqa: N815 - JSON true/false only: "false" or 0 is refused


class OffboardAnswerSchema(Schema):
    """What one offboarding run did; `complete` is false while some deletes failed (rerun to finish). A dry run
    lists the accounts in `wouldDelete`, and `deleted` is empty."""

    ownerId = fields.String(required=True)  # noqa: N815
    dryRun = fields.Boolean(required=True)  # noqa: N815
    deleted = fields.List(fields.String(), required=True)
    wouldDelete = fields.List(fields.String(), required=True)  # noqa: N815
    alreadyGone = fields.List(fields.String(), required=True)  # noqa: N815
    failed = fields.List(fields.String(), required=True)
    complete = fields.Boolean(required=True)
