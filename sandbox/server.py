"""The sandbox's app factory: StackOne's endpoints with Basic auth, the hub's endpoints, a tiny hub page, controls."""

from __future__ import annotations

import base64

from flask import Flask

from sandbox.accounts_api import accounts_api
from sandbox.behaviour import behaviour
from sandbox.controls import controls
from sandbox.gate import register_gate
from sandbox.hub import hub
from sandbox.hub_page import hub_page
from sandbox.sessions_api import sessions_api
from sandbox.site import Site
from sandbox.state import SandboxProject
from sandbox.webhooks import Webhooks, stackone_signature

__all__ = ["create_sandbox", "stackone_signature"]


def create_sandbox(api_key: str, public_url: str, webhook_url: str | None = None,
                   webhook_secret: str | None = None) -> Flask:
    """A Flask app that behaves like the parts of StackOne this service uses."""
    app = Flask("sandbox")
    project = SandboxProject()
    app.extensions["sandbox"] = project
    app.extensions["sandbox_site"] = Site(
        project=project, public_url=public_url, webhooks=Webhooks(project, webhook_url, webhook_secret),
        expected_auth="Basic " + base64.b64encode(f"{api_key}:".encode()).decode())
    register_gate(app)  # first: an API call is recorded and checked before any other hook sees it
    for blueprint in (sessions_api, accounts_api, controls, behaviour, hub_page, hub):
        app.register_blueprint(blueprint)
    return app
