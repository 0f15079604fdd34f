"""The plain hub page a session's link opens (the link's page, as StackOne's hub finishes on its own origin), and
finishing a session as the hub does."""

from __future__ import annotations

from html import escape

from flask import Blueprint, request

from sandbox.site import error, site
from sandbox.state import ACTIVE, CONNECTORS

hub_page = Blueprint("hub_page", __name__)


def finish(data) -> tuple[str, dict] | tuple:
    """Finish a session as the hub does; (event, account without credentials) or an error answer."""
    try:
        event, account = site().project.complete(str(data.get("token", "")), data.get("provider"))
    except LookupError as exc:
        return error(404, str(exc))
    except ValueError as exc:
        return error(400, str(exc))
    site().webhooks.deliver(event, account)
    return event, {k: v for k, v in account.items() if k not in ("credentials",)}


@hub_page.get("/embedded/integrations")
def show():
    """The page for a session's token: whom it connects for, and a provider to choose when the session left it open."""
    token = request.args.get("token", "")
    session = site().project.sessions.get(token)
    if session is None:
        return "<h1>StackOne sandbox hub</h1><p>This link is unknown or has expired.</p>", 404
    choice = "" if session["provider"] else "".join(
        f'<label><input type="radio" name="provider" value="{p}" required> {CONNECTORS[p][0]}</label><br>'
        for p in sorted(ACTIVE))
    return (f"<h1>StackOne sandbox hub</h1><p>Connecting an account for "
            f"<b>{escape(session['origin_owner_name'])}</b> "
            f"({escape(session['provider'] or 'choose a provider')}).</p>"
            f'<form method="post"><input type="hidden" name="token" '
            f'value="{escape(token)}">{choice}<button>Connect</button></form>')


@hub_page.post("/embedded/integrations")
def submitted():
    """The page's own form, submitted: the session finishes."""
    done = finish(request.form)
    if not isinstance(done[0], str):
        return done
    event, account = done
    return f"<h1>Connected</h1><p>{escape(event)}: account {escape(account['id'])}.</p>"


@hub_page.get("/favicon.ico")
def favicon():
    """No icon (and no 404 in a browser's console)."""
    return "", 204
