"""The browser kit: the integrations-page ES module, StackOne's vendored hub component, and a Jinja macro.

Served under /stackone_static/ so that the one-origin reverse proxy (which routes /stackone_) serves it too.
A URL that names the version (`/stackone_static/1.1.0/stackone-connect.js`, the vendored hub's file name) is
cached for a year; the plain name is revalidated on every use.
"""

from __future__ import annotations

import re
from pathlib import Path

from flask import Blueprint, abort, send_from_directory

STATIC = Path(__file__).resolve().parent / "static"
TEMPLATES = Path(__file__).resolve().parent / "templates"
KIT_VERSION = re.search(r'VERSION = "([0-9.]+)"', (STATIC / "stackone-connect.js").read_text()).group(1)
YEAR = 365 * 24 * 3600

bp = Blueprint("browserkit", __name__)


@bp.get("/stackone_static/<version>/stackone-connect.js")
def versioned_kit(version: str):
    """The kit at a versioned URL: immutable, cached for a year."""
    if version != KIT_VERSION:
        abort(404)
    response = send_from_directory(STATIC, "stackone-connect.js", max_age=YEAR)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


@bp.get("/stackone_static/stackone-connect.js")
def kit():
    """The kit at its plain URL: revalidated each time (ETag), for pages that do not pin a version."""
    response = send_from_directory(STATIC, "stackone-connect.js", max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/stackone_static/vendor/<name>")
def vendored(name: str):
    """StackOne's <stackone-hub> bundle, its version in the file name."""
    response = send_from_directory(STATIC / "vendor", name, max_age=YEAR)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
