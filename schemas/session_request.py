"""The body of POST /stackone_connect_sessions and /stackone_auth_links, loaded into a SessionRequest."""

from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, post_load, validate, validates_schema

from config import CATEGORIES
from policy.types import AUTH_LINK_EXPIRY, SESSION_EXPIRY, SessionRequest
from schemas.strict_fields import FullMatch, StrictBoolean, StrictInteger

PROVIDER_KEY = FullMatch(r"^[a-z0-9][a-z0-9_.-]{0,63}$", error="Must be a StackOne provider key, like 'bamboohr'.")
ACCOUNT_ID = FullMatch(r"^[A-Za-z0-9_-]{1,128}$", error="Must be a StackOne account id.")
CATEGORY = validate.OneOf(CATEGORIES, error="Must be one of: {choices}.")



class StrictSchema(Schema):
    """Base schema: unknown fields are errors, not silently dropped; StackOne's own spelling gets a hint."""

    class Meta:
        unknown = RAISE

    def handle_error(self, error: ValidationError, data, *, many: bool, **kwargs):
        """Rewrite "Unknown field." for StackOne's snake_case names (account_id) to name our spelling."""
        messages = error.messages if isinstance(error.messages, dict) else None
        if not messages:
            return
        ours = {name: f.data_key for name, f in self.fields.items() if f.data_key and f.data_key != name}
        hinted = {key: [f"Unknown field; did you mean `{ours[key]}`?"] if key in ours and value == ["Unknown field."]
                  else value for key, value in messages.items()}
        if hinted != messages:
            raise ValidationError(hinted, data=data, valid_data=error.valid_data)


class ConnectSessionRequestSchema(StrictSchema):
    """Every field optional; null means "not given", as a JavaScript frontend often sends it."""

    expiry = SESSION_EXPIRY
    kind = "session"

    origin_username = fields.String(data_key="originUsername", allow_none=True, validate=validate.Length(1, 255))
    provider = fields.String(allow_none=True, validate=PROVIDER_KEY)
    category = fields.String(allow_none=True, validate=CATEGORY)
    categories = fields.List(
        fields.String(validate=CATEGORY), allow_none=True, validate=validate.Length(1, len(CATEGORIES))
    )
    label = fields.String(allow_none=True, validate=validate.Length(1, 255))
    account_id = fields.String(data_key="accountId", allow_none=True, validate=ACCOUNT_ID)
    multiple = StrictBoolean(allow_none=True)
    expires_in = StrictInteger(
        data_key="expiresIn", allow_none=True, validate=validate.Range(SESSION_EXPIRY["min"], SESSION_EXPIRY["max"])
    )

    @validates_schema
    def check_categories(self, data, **kwargs):
        """category and categories are two spellings of one thing: one of them at most."""
        if data.get("category") is not None and data.get("categories") is not None:
            raise ValidationError("Send category or categories, not both.", "category")

    @post_load
    def to_request(self, data, **kwargs) -> SessionRequest:
        """Build the policy's value, with defaults for what was not sent."""
        categories = data.get("categories") or ([data["category"]] if data.get("category") else [])
        expires_in = data.get("expires_in")
        return SessionRequest(
            expires_in=self.expiry["default"] if expires_in is None else expires_in,
            origin_username=data.get("origin_username"),
            provider=data.get("provider"),
            categories=tuple(dict.fromkeys(categories)),
            label=data.get("label"),
            account_id=data.get("account_id"),
            multiple=bool(data.get("multiple")),
            kind=self.kind,
        )


class AuthLinkRequestSchema(ConnectSessionRequestSchema):
    """Same body; a link is forwarded to a person, so it lives for days, not minutes."""

    expiry = AUTH_LINK_EXPIRY
    kind = "link"

    expires_in = StrictInteger(
        data_key="expiresIn", allow_none=True, validate=validate.Range(AUTH_LINK_EXPIRY["min"], AUTH_LINK_EXPIRY["max"])
    )


class SessionStatusRequestSchema(StrictSchema):
    """The body of POST /stackone_connect_sessions/status: the token the page was given."""

    token = fields.String(required=True, validate=FullMatch(
        r"^[A-Za-z0-9._~+/=-]{8,512}$", error="Must be the session token this service returned."))
