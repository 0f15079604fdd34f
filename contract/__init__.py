"""GET /openapi.json: the OpenAPI 3.1 document, generated from the marshmallow schemas the routes use (apispec)."""

from __future__ import annotations

from collections.abc import Iterable

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, current_app, jsonify

from config import Settings
from errors import (
    HTTP_CODES,
    AccountLimitReached,
    AccountNotFound,
    AmbiguousAccount,
    BadSignature,
    BodyTimeout,
    ConflictingFields,
    DuplicateLabel,
    IdempotencyKeyReused,
    InProgress,
    InvalidBody,
    InvalidIdempotencyKey,
    InvalidJSON,
    InvalidRequest,
    LinkEnded,
    LinkNotFound,
    OriginNotAllowed,
    OwnerFieldsForbidden,
    PayloadTooLarge,
    ProviderMismatch,
    ProviderNotEnabled,
    RateLimited,
    ServiceBusy,
    ServiceError,
    SessionNotFound,
    StackOneError,
    StackOneMisconfigured,
    StateUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    UpstreamAuthFailed,
    UpstreamBusy,
    UpstreamRejected,
    UpstreamTimeout,
    UpstreamUnreachable,
    WebhookUnavailable,
)
from schemas import answers
from schemas.offboard import OffboardAnswerSchema, OffboardRequestSchema
from schemas.session_request import AuthLinkRequestSchema, ConnectSessionRequestSchema, SessionStatusRequestSchema

bp = Blueprint("contract", __name__)
EXTENSION = "stackone_connect_openapi"

# The problems each kind of route may answer (docs/api.md's errors table, per operation): errors.py's classes, so
# each status and code is read from there.
# A request that waited in a queue past its REQUEST_DEADLINE (web/deadline.py) is refused before its login is read.
LOGIN = (Unauthorized, OriginNotAllowed, RateLimited, ServiceBusy)
BODY = (InvalidJSON, InvalidBody, OwnerFieldsForbidden, BodyTimeout, PayloadTooLarge, UnsupportedMediaType,
        InvalidRequest)
UPSTREAM = (StackOneError, UpstreamUnreachable, UpstreamAuthFailed, StackOneMisconfigured, UpstreamBusy,
            UpstreamTimeout)
# Minting only: the Idempotency-Key header, the caps, and the owner's lock under which caps are checked.
MINTING = (InvalidIdempotencyKey, InProgress, AccountLimitReached, IdempotencyKeyReused, StateUnavailable,
           ServiceBusy)
IDEMPOTENCY_KEY = {"in": "header", "name": "Idempotency-Key", "required": False,
                   "description": "Optional. The same key with the same body gets the first answer again, with one "
                                  "StackOne call (kept 24 h, scoped to the owner); another body is a 422.",
                   # 1 to 255 characters, none of them control characters (the draft's sf-string form is accepted).
                   "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^\\x00-\\x1f\\x7f]+$"}}
POLICY = (AccountNotFound, AmbiguousAccount, DuplicateLabel, InvalidRequest, ConflictingFields, ProviderMismatch,
          ProviderNotEnabled, UpstreamRejected)


# werkzeug's 404, not a ServiceError: an operator's route that is not there.
NOT_FOUND = (404, HTTP_CODES[404])


def _merge(*groups: Iterable[type[ServiceError] | tuple[int, str]]) -> dict[int, list[str]]:
    """The groups' codes by status (ascending), each once, in the order given."""
    merged: dict[int, list[str]] = {}
    for group in groups:
        for problem in group:
            status, code = problem if isinstance(problem, tuple) else (problem.status, problem.code)
            codes = merged.setdefault(status, [])
            if code not in codes:
                codes.append(code)
    return dict(sorted(merged.items()))


OPERATIONS = [
    ("/stackone_connect_sessions", "post", "Mint a Connect Session token for the embedded hub",
     ConnectSessionRequestSchema, "minting", (200, answers.ConnectSessionAnswerSchema),
     _merge(LOGIN, BODY, POLICY, MINTING, UPSTREAM)),
    ("/stackone_auth_links", "post", "Mint a forwardable Auth Link (5 days by default, at most 7)",
     AuthLinkRequestSchema, "minting", (200, answers.AuthLinkAnswerSchema),
     _merge(LOGIN, BODY, POLICY, MINTING, UPSTREAM)),
    ("/stackone_auth_links", "get", "The caller's Auth Links of ours, newest first (empty without AUTH_LINK_BASE_URL)",
     None, "links", (200, answers.LinksAnswerSchema), _merge(LOGIN, (OwnerFieldsForbidden, InvalidRequest))),
    ("/stackone_auth_links/{link_id}", "delete", "Withdraw one of the caller's live links (AUTH_LINK_BASE_URL)",
     None, None, (204, None), _merge(LOGIN, (OwnerFieldsForbidden, LinkNotFound, LinkEnded, StateUnavailable))),
    ("/stackone_connect_sessions/status", "post", "How a session the caller minted went",
     SessionStatusRequestSchema, None, (200, answers.SessionStatusAnswerSchema),
     _merge(LOGIN, BODY, (SessionNotFound,), UPSTREAM)),
    ("/stackone_connect_sessions/release", "post",
     "The page closed the hub without connecting: free the place its session holds under ACCOUNT_LIMITS",
     SessionStatusRequestSchema, None, (204, None),
     _merge(LOGIN, BODY, (StateUnavailable, ServiceBusy))),
    ("/stackone_accounts", "get", "The caller's own linked accounts, every status",
     None, "accounts", (200, answers.AccountsAnswerSchema),
     _merge(LOGIN, (OwnerFieldsForbidden, InvalidRequest, ProviderNotEnabled), UPSTREAM)),
    ("/stackone_accounts/{account_id}", "delete", "Disconnect one of the caller's accounts",
     None, None, (204, None), _merge(LOGIN, (OwnerFieldsForbidden, AccountNotFound), UPSTREAM)),
    ("/stackone_providers", "get", "The providers a page may offer",
     None, "none", (200, answers.ProvidersAnswerSchema),
     _merge(LOGIN, (OwnerFieldsForbidden, InvalidRequest), UPSTREAM)),
    ("/stackone_webhooks", "post", "StackOne's signed account events",
     None, None, (200, answers.WebhookAnswerSchema),
     _merge((InvalidJSON, InvalidBody, BadSignature, BodyTimeout, PayloadTooLarge, WebhookUnavailable,
             StateUnavailable, ServiceBusy))),
    ("/admin/offboard", "post", "Operators: delete every StackOne account of one owner (ADMIN_TOKEN)",
     OffboardRequestSchema, None, (200, OffboardAnswerSchema),
     _merge(BODY, (Unauthorized, NOT_FOUND, ServiceBusy, StateUnavailable), UPSTREAM)),
    ("/healthz", "get", "Liveness", None, None, (200, answers.HealthAnswerSchema), {}),
    ("/readyz", "get", "Readiness (the shared state answers)", None, None, (200, answers.ReadyAnswerSchema), {}),
]


LINK_CLICK = {
    "summary": "Open an Auth Link of ours: a session minted now, then to StackOne's hub (no login; never cached)",
    "parameters": [{"in": "path", "name": "secret", "required": True, "schema": {"type": "string"}}],
    "responses": {
        "302": {"description": "To StackOne's hub with a session of AUTH_LINK_CLICK_LIFETIME"},
        "404": {"description": "An HTML page: no such link", "content": {"text/html": {}}},
        "410": {"description": "An HTML page: withdrawn, expired or already used", "content": {"text/html": {}}},
        "409": {"description": "An HTML page: refused now (a cap, an ambiguous account)", "content": {"text/html": {}}},
        "503": {"description": "An HTML page: StackOne or the shared state unavailable", "content": {"text/html": {}}},
    },
}


def build_document(settings: Settings) -> dict:
    """The OpenAPI 3.1 document for this configuration (its security scheme follows OWNER_AUTH)."""
    spec = APISpec(title="stackone-connect-backend", version="1.0.0", openapi_version="3.1.0",
                   plugins=[MarshmallowPlugin()],
                   info={"description": "Connect Session tokens and Auth Links with the owner set by the server."})
    if settings.login.owner_auth == "flask-session":
        spec.components.security_scheme("login", {"type": "apiKey", "in": "cookie",
                                                  "name": settings.login.legacy_session_cookie})
    else:
        spec.components.security_scheme("login", {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"})
    spec.components.schema("Problem", schema=answers.ProblemSchema)
    spec.components.security_scheme("admin", {"type": "http", "scheme": "bearer",
                                              "description": "The operator's ADMIN_TOKEN, never an owner's login"})
    for path, method, summary, body, query, (status, answer), problems in OPERATIONS:
        if path.startswith("/admin/") and not settings.serving.admin_token:
            continue  # without ADMIN_TOKEN the operator's route is a 404: not part of this deployment's contract
        if path == "/stackone_auth_links/{link_id}" and not settings.links.base_url:
            continue  # links are StackOne's own: nothing to withdraw (404); the list answers empty
        if path == "/stackone_auth_links" and method == "post" and settings.links.base_url:
            answer = answers.SentLinkAnswerSchema  # a link of ours: no token until it is clicked
        operation: dict = {"summary": summary, "responses": {}}
        if path.startswith("/stackone_") and path != "/stackone_webhooks":
            operation["security"] = [{"login": []}]
        if path.startswith("/admin/"):
            operation["security"] = [{"admin": []}]
        if body is not None:
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
        if query == "minting":
            operation["parameters"] = [IDEMPOTENCY_KEY]
        if query == "accounts":
            operation["parameters"] = [{"in": "query", "name": "provider", "required": False,
                                        "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_.-]{0,63}$"}}]
        if path == "/stackone_accounts/{account_id}":
            operation["parameters"] = [{"in": "path", "name": "account_id", "required": True,
                                        "schema": {"type": "string"}}]
        if path == "/stackone_auth_links/{link_id}":
            operation["parameters"] = [{"in": "path", "name": "link_id", "required": True,
                                        "schema": {"type": "string", "pattern": "^lnk_[A-Za-z0-9_-]{12}$"}}]
        if query == "links":
            operation["parameters"] = [
                {"in": "query", "name": "limit", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 50}},
                {"in": "query", "name": "offset", "required": False,
                 "schema": {"type": "integer", "minimum": 0, "maximum": 10000, "default": 0}}]
        if path == "/stackone_webhooks":
            operation["parameters"] = [{"in": "header", "name": "x-stackone-signature", "required": False,
                                        "schema": {"type": "string"}}]
            operation["requestBody"] = {"required": True, "content": {"application/json": {"schema": {
                "type": "object"}}}}
        success = {"description": "OK"} if answer is None else {
            "description": "OK", "content": {"application/json": {"schema": answer}}}
        if path == "/readyz":
            operation["responses"]["503"] = {"description": "Not ready", "content": {
                "application/json": {"schema": answers.ReadyAnswerSchema}}}
        operation["responses"][str(status)] = success
        for problem_status, codes in problems.items():
            operation["responses"][str(problem_status)] = {
                "description": "Problem codes: " + ", ".join(codes),
                "content": {"application/problem+json": {"schema": "Problem"}}}
        spec.path(path=path, operations={method: operation})
    if settings.links.base_url:
        # The link itself: its holder's browser, no login; a redirect or a small HTML page, never JSON.
        spec.path(path="/l/{secret}", operations={"get": LINK_CLICK})
    document = spec.to_dict()
    _cross_field_rules(document, settings)
    return document


def _cross_field_rules(document: dict, settings: Settings) -> None:
    """What marshmallow checks across fields (and the configured providers), said in the document too."""
    schemas = document["components"]["schemas"]
    for name in ("ConnectSessionRequest", "AuthLinkRequest"):
        schemas[name]["not"] = {"anyOf": [
            # accountId edits that account; multiple: true adds another: not both.
            {"required": ["accountId", "multiple"],
             "properties": {"accountId": {"type": "string"}, "multiple": {"const": True}}},
            # category and categories are two spellings of one thing.
            {"required": ["category", "categories"],
             "properties": {"category": {"type": "string"}, "categories": {"type": "array"}}},
        ]}
        if settings.stackone.enabled_providers:
            schemas[name]["properties"]["provider"]["enum"] = [*sorted(settings.stackone.enabled_providers), None]
    if settings.stackone.enabled_providers:
        query = document["paths"]["/stackone_accounts"]["get"]["parameters"][0]["schema"]
        query["enum"] = sorted(settings.stackone.enabled_providers)


@bp.get("/openapi.json")
def openapi_document():
    """The OpenAPI document (built once per app)."""
    return jsonify(current_app.extensions[EXTENSION])
