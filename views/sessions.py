"""POST /stackone_connect_sessions and /stackone_auth_links: the owner from the login, the policy applied."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, jsonify, request
from marshmallow import Schema

from connect_flow import IssuedSession
from logs.audit import audit
from schemas.answers import AuthLinkAnswerSchema, ConnectSessionAnswerSchema, SessionStatusAnswerSchema
from schemas.owner_fields import refuse_owner_fields
from schemas.session_request import AuthLinkRequestSchema, ConnectSessionRequestSchema, SessionStatusRequestSchema
from services import current_owner, services
from views.json_body import read_json_object

bp = Blueprint("sessions", __name__)
# Built once: a marshmallow schema holds no per-load state, and building one costs more than using it.
CONNECT_REQUEST, LINK_REQUEST, STATUS_REQUEST = (
    ConnectSessionRequestSchema(), AuthLinkRequestSchema(), SessionStatusRequestSchema())
CONNECT_ANSWER, LINK_ANSWER, STATUS_ANSWER = (
    ConnectSessionAnswerSchema(), AuthLinkAnswerSchema(), SessionStatusAnswerSchema())


def issue(schema: Schema) -> IssuedSession:
    """Authenticate, read and check the body, then decide and mint; shared by the session and link routes."""
    owner = current_owner()
    body = read_json_object()
    refuse_owner_fields(body.keys(), request.args.keys())
    return services().open_session(owner, schema.load(body))


@bp.post("/stackone_connect_sessions")
def create_connect_session():
    """Mint a Connect Session token for the embedded hub."""
    issued = issue(CONNECT_REQUEST)
    audit("session_minted", **issued.audit_fields())
    settings = services().settings
    # What a page needs to open StackOne's <stackone-hub> with this token: its base-url and app-url.
    return jsonify(CONNECT_ANSWER.dump({**issued.as_json(), "authLinkUrl": issued.link,
                                        "hubBaseUrl": settings.stackone_api_url,
                                        "hubAppUrl": hub_app_url(settings.stackone_hub_url)}))


@bp.post("/stackone_auth_links")
def create_auth_link():
    """Mint a forwardable Auth Link: the same checks, a lifetime of days, and the link itself."""
    issued = issue(LINK_REQUEST)
    audit("auth_link_minted", **issued.audit_fields())
    return jsonify(LINK_ANSWER.dump({"url": issued.link, **issued.as_json()}))


@bp.post("/stackone_connect_sessions/status")
def connect_session_status():
    """How a session the caller minted went: pending, authenticated (with the account), error, cancelled, expired."""
    owner = current_owner()
    body = read_json_object()
    refuse_owner_fields(body.keys(), request.args.keys())
    token = STATUS_REQUEST.load(body)["token"]
    return jsonify(STATUS_ANSWER.dump(services().session_status(owner, token)))


def hub_app_url(hub_url: str) -> str:
    """The dashboard origin the hub component calls `app-url`: the origin of STACKONE_HUB_URL."""
    parts = urlsplit(hub_url)
    return f"{parts.scheme}://{parts.netloc}"
