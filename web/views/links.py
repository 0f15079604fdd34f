"""Auth Links of our own (AUTH_LINK_BASE_URL): sent, listed and withdrawn by their owner; opened at /l/<secret>.

POST /stackone_auth_links comes here from web/views/sessions.py when the base URL is set. Unset, the list, the
withdrawal and the link path are 404s, as routes this deployment does not have.
The link path answers its holder, a person with a browser and no login: a 302 to StackOne's hub, or a small page.
Its secret is in no log line (the access line logs the rule, `/l/<secret>`; logs/redaction.py blanks the path in
any other line) and in no problem (web/problems.py names the rule there too).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, jsonify, redirect, render_template, request
from marshmallow import fields, validate

from errors import LinkEnded, LinkNotFound, ServiceError, StackOneError, StateUnavailable
from extensions import services
from links.store import LONGEST_PAGE, PAGE
from logs.audit import audit
from schemas.answers import LinksAnswerSchema, SentLinkAnswerSchema
from schemas.owner_fields import refuse_owner_fields
from schemas.session_request import StrictSchema
from sessions.links import PATH
from web.context import context
from web.login import current_owner

bp = Blueprint("links", __name__, template_folder="../templates")
SENT_ANSWER, LINKS_ANSWER = SentLinkAnswerSchema(), LinksAnswerSchema()
# Every answer of the link path: never cached, never sent on as a Referer (the URL is the credential), not indexed.
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                                           "form-action 'none'; frame-ancestors 'none'"}


class LinksQuerySchema(StrictSchema):
    """?limit= and ?offset= page the owner's links (newest first); the owner always comes from the login."""

    limit = fields.Integer(load_default=PAGE, validate=validate.Range(1, LONGEST_PAGE))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10_000))


LINKS_QUERY = LinksQuerySchema()


def send_link(owner, wanted) -> Response:
    """POST /stackone_auth_links with AUTH_LINK_BASE_URL set: decided now within the caps, a link of ours made."""
    sent = services().links.send(owner, wanted)
    context().action = sent.decision.action.value  # for the request's access line and metrics
    audit("auth_link_sent", **sent.audit_fields())
    return jsonify(SENT_ANSWER.dump(sent.as_json()))


def _ours() -> None:
    if not services().links_on:
        abort(404)  # links are StackOne's own here: nothing to list, withdraw or open


@bp.get("/stackone_auth_links")
def list_links():
    """The owner's links, newest first: for whom, by whom, when made, clicked and ended, and how. With StackOne's own
    links (AUTH_LINK_BASE_URL unset) there are none to list: an empty list, so a page need not know the setting."""
    owner = current_owner()
    refuse_owner_fields(request.args.keys())
    query = LINKS_QUERY.load(request.args.to_dict(flat=True))
    if not services().links_on:
        return jsonify({"links": []})
    return jsonify(LINKS_ANSWER.dump({"links": services().links.listing(owner, **query)}))


@bp.delete("/stackone_auth_links/<link_id>")
def withdraw_link(link_id: str):
    """Withdraw one of the owner's live links (204, again 204); another owner's or unknown: 404; ended: 409."""
    _ours()
    owner = current_owner()
    refuse_owner_fields(request.args.keys())
    link = services().links.withdraw(owner, link_id)
    audit("auth_link_withdrawn", link_id=link.handle, for_username=link.origin_username)
    return Response(status=204)


@bp.get(PATH + "<secret>")
def open_link(secret: str):
    """A click: record it, decide and mint a short session now, and send the browser to StackOne's hub."""
    _ours()
    if request.method == "HEAD":
        return _page(200, "checked")  # a link preview's probe: nothing recorded, nothing minted
    try:
        link, issued = services().links.click(secret)
    except LinkNotFound:
        return _page(404, "unknown")
    except LinkEnded as ended:
        return _page(410, ended.extra.get("linkStatus", "ended"))
    except ServiceError as refused:
        context().problem_code = refused.code  # counted as a refusal, as a mint's would be
        audit("auth_link_click_refused", code=refused.code, status=refused.status)
        page = _page(refused.status, _refusal_kind(refused))
        page.headers.update({k: v for k, v in refused.headers.items() if k == "Retry-After"})
        return page
    context().action = issued.decision.action.value
    audit("auth_link_clicked", link_id=link.handle, owner_id=link.owner_id, for_username=link.origin_username,
          **issued.audit_fields())
    response = redirect(issued.link, code=302)
    response.headers.update(PAGE_HEADERS)
    return response


def _refusal_kind(refused: ServiceError) -> str:
    if refused.code == "account_limit":
        return "limit"
    if refused.code == "rate_limited":
        return "unavailable"  # opened too often: try again shortly
    if isinstance(refused, (StackOneError, StateUnavailable)) or refused.status >= 500:
        return "unavailable"
    return "refused"


# What each page says: its title, what happened, what to do. Nothing names the organisation the link belongs to: its
# holder knows who sent it, and a stranger who found it learns nothing.
PAGES = {
    "unknown": ("This link does not work",
                "It may have been mistyped, or cut short when it was copied.",
                "Ask whoever sent it to you for a new one."),
    "withdrawn": ("This link was withdrawn",
                  "Whoever sent it has withdrawn it: it no longer opens anything.",
                  "Ask them for a new link if you still need to connect."),
    "expired": ("This link has expired",
                "It worked for a limited time, which is over.",
                "Ask whoever sent it to you for a new one."),
    "completed": ("This link has been used",
                  "An account was connected through it already; a link connects one account, once.",
                  "If something needs changing, ask whoever sent it to you for a new link."),
    "ended": ("This link no longer works", "It has ended.", "Ask whoever sent it to you for a new one."),
    "limit": ("This link cannot be used right now",
              "No more accounts may be connected for now.",
              "Ask whoever sent you this link: they can make room and send it again."),
    "refused": ("This link cannot be used",
                "What it was made to connect cannot be connected any more.",
                "Ask whoever sent it to you for a new one."),
    "unavailable": ("This link cannot be opened right now",
                    "The connection service is not answering at the moment.",
                    "Try again in a few minutes; if it keeps failing, tell whoever sent you this link."),
    "checked": ("Connect an account", "Open this link in your browser to connect.", ""),
}


def _page(status: int, kind: str) -> Response:
    title, message, advice = PAGES.get(kind, PAGES["ended"])
    response = Response(render_template("auth_link_page.html", kind=kind, title=title, message=message,
                                        advice=advice), status=status, mimetype="text/html")
    response.headers.update(PAGE_HEADERS)
    return response
