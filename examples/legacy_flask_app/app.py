"""The legacy app: a login that puts org_id, org_name and email in Flask's session, as our users' apps do."""

from __future__ import annotations

import os
from html import escape

from flask import Flask, redirect, request, session, url_for

ORGS = {"acme": "Acme Inc", "globex": "Globex"}


def create_app(secret_key: str | None = None) -> Flask:
    """The app; its SECRET_KEY is the one the service is given as LEGACY_SECRET_KEY."""
    app = Flask(__name__)
    app.secret_key = secret_key or os.environ["LEGACY_SECRET_KEY"]

    @app.get("/")
    def home():
        if "org_id" not in session:
            return redirect(url_for("login"))
        return (f"<h1>{escape(session['org_name'])}</h1><p>Signed in as {escape(session['email'])}.</p>"
                f'<p><a href="{url_for("logout")}">Sign out</a></p>')

    @app.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "POST":
            org = request.form.get("org", "")
            if org not in ORGS:
                return "Unknown organisation", 400
            session.update(org_id=org, org_name=ORGS[org], email=request.form.get("email") or f"admin@{org}.test")
            return redirect(url_for("home"))
        options = "".join(f'<option value="{key}">{escape(name)}</option>' for key, name in ORGS.items())
        return (f'<h1>Sign in</h1><form method="post"><label>Organisation <select name="org">{options}</select>'
                '</label> <label>Email <input name="email" type="email"></label> <button>Sign in</button></form>')

    @app.get("/logout")
    def logout():
        session.clear()
        return redirect(url_for("login"))

    return app
