"""What the service answers, as marshmallow schemas: the views dump through them and the OpenAPI document is made
from them, so the two cannot drift."""

from __future__ import annotations

from marshmallow import INCLUDE, Schema, fields, validate

from domain.accounts import ATTEMPT_STATUSES
from policy.types import Action

ACTIONS = validate.OneOf([action.value for action in Action])


class SessionFieldsSchema(Schema):
    """Fields common to a connect session and an auth link."""

    token = fields.String(required=True, metadata={"description": "The Connect Session token (a bearer secret)."})
    action = fields.String(required=True, validate=ACTIONS)
    provider = fields.String(required=True, allow_none=True)
    accountId = fields.String(metadata={"description": "Present for action update."})  # noqa: N815 - wire name
    expiresIn = fields.Integer(required=True)  # noqa: N815
    expiresAt = fields.String(required=True, metadata={"format": "date-time"})  # noqa: N815


class ConnectSessionAnswerSchema(SessionFieldsSchema):
    """200 of POST /stackone_connect_sessions."""

    authLinkUrl = fields.String(required=True)  # noqa: N815
    hubBaseUrl = fields.String(required=True)  # noqa: N815
    hubAppUrl = fields.String(required=True)  # noqa: N815


class AuthLinkAnswerSchema(SessionFieldsSchema):
    """200 of POST /stackone_auth_links."""

    url = fields.String(required=True)


class SentLinkAnswerSchema(Schema):
    """200 of POST /stackone_auth_links with AUTH_LINK_BASE_URL set: a link of ours, no token (none exists until it
    is clicked)."""

    url = fields.String(required=True, metadata={"description": "AUTH_LINK_BASE_URL/l/<secret>: shown once."})
    id = fields.String(required=True, metadata={"description": "The link's handle, for the list and DELETE."})
    action = fields.String(required=True, validate=ACTIONS, metadata={
        "description": "As decided now; a click decides again from the owner's accounts at that moment."})
    provider = fields.String(required=True, allow_none=True)
    accountId = fields.String(metadata={"description": "Present for action update."})  # noqa: N815
    expiresIn = fields.Integer(required=True)  # noqa: N815
    expiresAt = fields.String(required=True, metadata={"format": "date-time"})  # noqa: N815
    status = fields.String(required=True, validate=validate.OneOf(["live"]))


LINK_STATUSES = validate.OneOf(["live", "completed", "withdrawn", "expired"])


class LinkSchema(Schema):
    """One of the owner's links, as listed (null for what is not known)."""

    id = fields.String(required=True)
    status = fields.String(required=True, validate=LINK_STATUSES)
    for_ = fields.String(required=True, allow_none=True, data_key="for", attribute="for",
                         metadata={"description": "Whom it was sent to (origin_username)."})
    by = fields.String(required=True, allow_none=True, metadata={"description": "The login's user who made it."})
    provider = fields.String(required=True, allow_none=True)
    label = fields.String(required=True, allow_none=True)
    createdAt = fields.String(required=True, metadata={"format": "date-time"})  # noqa: N815
    expiresAt = fields.String(required=True, metadata={"format": "date-time"})  # noqa: N815
    firstClickAt = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})  # noqa: N815
    lastClickAt = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})  # noqa: N815
    clicks = fields.Integer(required=True)
    completedAt = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})  # noqa: N815
    accountId = fields.String(required=True, allow_none=True, metadata={  # noqa: N815
        "description": "The account made through it once completed, else the account it reconnects, else null."})


class LinksAnswerSchema(Schema):
    """200 of GET /stackone_auth_links: the owner's links, newest first."""

    links = fields.List(fields.Nested(LinkSchema), required=True)


class StatusReasonSchema(Schema):
    """One of StackOne's reasons for an account's status."""

    code = fields.String(allow_none=True)
    description = fields.String(allow_none=True)
    timestamp = fields.String(allow_none=True)


class AccountSchema(Schema):
    """One of the owner's linked accounts, without credentials."""

    id = fields.String(required=True)
    provider = fields.String(required=True, allow_none=True)
    providerName = fields.String(required=True, allow_none=True)  # noqa: N815
    status = fields.String(required=True, allow_none=True)
    label = fields.String(required=True, allow_none=True)
    originUsername = fields.String(required=True, allow_none=True)  # noqa: N815
    createdAt = fields.String(required=True, allow_none=True)  # noqa: N815
    updatedAt = fields.String(required=True, allow_none=True)  # noqa: N815
    statusReasons = fields.List(fields.Nested(StatusReasonSchema), required=True)  # noqa: N815
    needsReconnect = fields.Boolean(required=True)  # noqa: N815
    type = fields.String(required=True, allow_none=True, metadata={
        "description": "StackOne's account type, production or test (STACKONE_SESSION_TYPE made it); a page may mark "
                       "test accounts."})


class AccountsAnswerSchema(Schema):
    """200 of GET /stackone_accounts."""

    data = fields.List(fields.Nested(AccountSchema), required=True)


class ProviderSchema(Schema):
    """A provider a page may offer."""

    key = fields.String(required=True)
    name = fields.String(required=True)
    category = fields.String(required=True, allow_none=True)


class ProvidersAnswerSchema(Schema):
    """200 of GET /stackone_providers."""

    data = fields.List(fields.Nested(ProviderSchema), required=True)


class SessionStatusAnswerSchema(Schema):
    """200 of POST /stackone_connect_sessions/status."""

    status = fields.String(required=True, validate=validate.OneOf(ATTEMPT_STATUSES))
    accountId = fields.String()  # noqa: N815
    provider = fields.String()
    expiresAt = fields.String(metadata={"format": "date-time"})  # noqa: N815


class WebhookAnswerSchema(Schema):
    """200 of POST /stackone_webhooks."""

    status = fields.String(required=True, validate=validate.OneOf(
        ["processed", "duplicate", "ignored", "stale", "out_of_order"]))


class HealthAnswerSchema(Schema):
    """200 of GET /healthz."""

    status = fields.String(required=True, validate=validate.OneOf(["ok"]))


class ReadyAnswerSchema(Schema):
    """GET /readyz: ready (200) or unavailable with the reason (503)."""

    status = fields.String(required=True, validate=validate.OneOf(["ready", "unavailable"]))
    reason = fields.String()


class ProblemSchema(Schema):
    """RFC 9457 problem details, with the service's `code` and `requestId` (more members per code)."""

    class Meta:
        unknown = INCLUDE  # extension members: errors, candidates, enabledProviders, maxBytes...

    type = fields.String(required=True)
    title = fields.String(required=True)
    status = fields.Integer(required=True)
    detail = fields.String(required=True)
    code = fields.String(required=True)
    instance = fields.String()
    requestId = fields.String(required=True)  # noqa: N815
