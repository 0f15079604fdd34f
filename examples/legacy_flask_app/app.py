"""The legacy app: a login that puts org_id, org_name and email in Flask's session, and an integrations page.

The page is the browser kit's macro: in `cookie` mode the service reads this app's own session cookie
(OWNER_AUTH=flask-session, LEGACY_SECRET_KEY = this app's SECRET_KEY); in `bearer` mode this app hands the page a
short-lived login JWT signed with the key the service verifies (OWNER_AUTH=jwt), as a JWT-issuing login does.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import jwt
from flask import Flask, jsonify, redirect, render_template_string, request, session, url_for
from jinja2 import ChoiceLoader, FileSystemLoader

ORGS = {"acme": "Acme Inc", "globex": "Globex"}
KIT_TEMPLATES = Path(__file__).resolve().parents[2] / "browserkit" / "templates"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ title }} · Legacy app</title>
<link rel="icon" href="data:,">
<style>body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:800px;padding:0 1rem}
nav{display:flex;gap:1rem;border-bottom:1px solid #ddd;padding-bottom:.6rem}</style></head>
<body><nav><strong>Legacy app</strong>{% if session.org_name %}<span>{{ session.org_name }}</span>
<a href="{{ url_for('integrations') }}">Integrations</a><a href="{{ url_for('logout') }}">Sign out</a>{% endif %}</nav>
<main><h1>{{ title }}</h1>{{ body|safe }}</main></body></html>"""

INTEGRATIONS = """{% from "stackone_connect.html" import stackone_integrations %}
{% if mode == "bearer" %}<script>
  // The page's login token, fetched from this app (which signs it) whenever the kit needs one.
  window.getLoginToken = () => fetch("{{ url_for('login_token') }}").then((r) => r.json()).then((b) => b.token);
</script>{% endif %}
{{ stackone_integrations(service_url=service_url, auth=mode, bearer="window.getLoginToken", open_with=open_with) }}"""


def create_app(secret_key: str | None = None, *, service_url: str | None = None, mode: str | None = None,
               jwt_secret: str | None = None, demo_login: bool | None = None) -> Flask:
    """The app; settings default to EXAMPLE_* / LEGACY_SECRET_KEY / OWNER_JWT_SECRET from the environment."""
    app = Flask(__name__)
    app.secret_key = secret_key or os.environ["LEGACY_SECRET_KEY"]
    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(KIT_TEMPLATES)])
    service_url = os.environ.get("EXAMPLE_SERVICE_URL", "") if service_url is None else service_url
    mode = mode or os.environ.get("EXAMPLE_AUTH", "cookie")
    jwt_secret = jwt_secret or os.environ.get("OWNER_JWT_SECRET")
    demo_login = os.environ.get("EXAMPLE_DEMO_LOGIN") == "1" if demo_login is None else demo_login
    open_with = os.environ.get("EXAMPLE_OPEN_WITH", "hub")  # "popup": the session's authLinkUrl in a window

    def page(title: str, body: str, **context):
        return render_template_string(PAGE, title=title, body=render_template_string(body, **context))

    @app.get("/")
    def home():
        if "org_id" not in session:
            return redirect(url_for("login"))
        return redirect(url_for("integrations"))

    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "POST":
            org = request.form.get("org", "")
            if org not in ORGS:
                return "Unknown organisation", 400
            session.update(org_id=org, org_name=ORGS[org], email=request.form.get("email") or f"admin@{org}.test")
            return redirect(url_for("home"))
        return page("Sign in", """<form method="post"><label>Organisation <select name="org">
            {% for key, name in orgs.items() %}<option value="{{ key }}">{{ name }}</option>{% endfor %}
            </select></label> <label>Email <input name="email" type="email"></label>
            <button>Sign in</button></form>""", orgs=ORGS)

    if demo_login:
        @app.get("/demo-login")
        def demo():
            """make run's shortcut: signed in as the demo organisation, straight to the integrations page."""
            session.update(org_id="demo-org", org_name="Demo Org", email="demo@example.com")
            return redirect(url_for("integrations"))

    @app.get("/logout")
    def logout():
        session.clear()
        return redirect(url_for("login"))

    @app.get("/integrations")
    def integrations():
        if "org_id" not in session:
            return redirect(url_for("login"))
        return page("Integrations", INTEGRATIONS, service_url=service_url, mode=mode, open_with=open_with)

    @app.get("/login-token")
    def login_token():
        """Bearer mode: a 10-minute JWT for the signed-in organisation (cookie mode has no use for it)."""
        if "org_id" not in session or mode != "bearer" or not jwt_secret:
            return jsonify({"error": "not signed in"}), 401
        claims = {"org_id": session["org_id"], "org_name": session["org_name"], "email": session["email"],
                  "exp": int(time.time()) + 600}
        return jsonify({"token": jwt.encode(claims, jwt_secret, algorithm="HS256")})

    return app
