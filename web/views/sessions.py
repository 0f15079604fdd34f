"""POST /stackone_connect_sessions and /stackone_auth_links: the owner from the login, the policy applied."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, request
from marshmallow import Schema

from extensions import services
from identity.owner import Owner
from logs.audit import audit
from schemas.answers import AuthLinkAnswerSchema, ConnectSessionAnswerSchema, SessionStatusAnswerSchema
from schemas.owner_fields import refuse_owner_fields
from schemas.session_request import AuthLinkRequestSchema, ConnectSessionRequestSchema, SessionStatusRequestSchema
from sessions.mint import IssuedSession
from web.body import read_json_object
from web.context import context
from web.idempotency import answer_once, offered_key
from web.login import current_owner
from web.views.links import send_link

bp = Blueprint("sessions", __name__)
# Built once: a marshmallow schema holds no per-load state, and building one costs more than using it.
CONNECT_REQUEST, LINK_REQUEST, STATUS_REQUEST = (
    ConnectSessionRequestSchema(), AuthLinkRequestSchema(), SessionStatusRequestSchema())
CONNECT_ANSWER, LINK_ANSWER, STATUS_ANSWER = (
    ConnectSessionAnswerSchema(), AuthLinkAnswerSchema(), SessionStatusAnswerSchema())


def posted(schema: Schema, make: Callable[[Owner, Any], Response]) -> Response:
    """Authenticate, read and check the body, then `make` the answer, once per Idempotency-Key when one is sent;
    shared by the session and link routes."""
    owner = current_owner()
    key = offered_key()  # a malformed key is refused before the body is read
    body = read_json_object()
    refuse_owner_fields(body.keys(), request.args.keys())
    wanted = schema.load(body)
    return make(owner, wanted) if key is None else answer_once(owner.id, key, body, lambda: make(owner, wanted))


def mint(schema: Schema, answer: Callable[[IssuedSession], Response]) -> Response:
    """Decide and mint a session (posted's rules), answered by `answer`."""
    def make(owner: Owner, wanted) -> Response:
        issued = services().sessions.open_session(owner, wanted)
        context().action = issued.decision.action.value  # for the request's access line and metrics
        return answer(issued)

    return posted(schema, make)


def session_answer(issued: IssuedSession) -> Response:
    """The connect-session answer, and its audit line."""
    audit("session_minted", **issued.audit_fields())
    settings = services().settings
    # What a page needs to open StackOne's <stackone-hub> with this token: its base-url and app-url.
    return jsonify(CONNECT_ANSWER.dump({**issued.as_json(), "authLinkUrl": issued.link,
                                        "hubBaseUrl": settings.stackone.api_url,
                                        "hubAppUrl": hub_app_url(settings.stackone.hub_url)}))


def link_answer(issued: IssuedSession) -> Response:
    """The auth-link answer, and its audit line."""
    audit("auth_link_minted", **issued.audit_fields())
    return jsonify(LINK_ANSWER.dump({"url": issued.link, **issued.as_json()}))


@bp.post("/stackone_connect_sessions")
def create_connect_session():
    """Mint a Connect Session token for the embedded hub."""
    return mint(CONNECT_REQUEST, session_answer)


@bp.post("/stackone_auth_links")
def create_auth_link():
    """A forwardable Auth Link: the same checks, a lifetime of days, and the link itself (with AUTH_LINK_BASE_URL
    set, a link of ours, minted only when clicked: web/views/links.py)."""
    if services().links_on:
        return posted(LINK_REQUEST, send_link)
    return mint(LINK_REQUEST, link_answer)


@bp.post("/stackone_connect_sessions/status")
def connect_session_status():
    """How a session the caller minted went: pending, authenticated (with the account), error, cancelled, expired."""
    owner, token = posted_token()
    return jsonify(STATUS_ANSWER.dump(services().sessions.session_status(owner, token)))


@bp.post("/stackone_connect_sessions/release")
def release_connect_session():
    """The page closed the hub without connecting: free the place its session holds under ACCOUNT_LIMITS (204)."""
    owner, token = posted_token()
    if services().sessions.release_session(owner, token):
        audit("session_released")
    # 204 either way: whether a token was another owner's, or held nothing, is not told.
    return Response(status=204)


def posted_token() -> tuple:
    """The caller's owner and the session token in the body ({"token": ...}) of the status and release routes."""
    owner = current_owner()
    body = read_json_object()
    refuse_owner_fields(body.keys(), request.args.keys())
    return owner, STATUS_REQUEST.load(body)["token"]


def hub_app_url(hub_url: str) -> str:
    """The dashboard origin the hub component calls `app-url`: the origin of STACKONE_HUB_URL."""
    parts = urlsplit(hub_url)
    return f"{parts.scheme}://{parts.netloc}"
