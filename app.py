"""The Flask application factory: settings, services, routes and error handlers, nothing at import time."""

from __future__ import annotations

from collections.abc import Mapping

import click
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import ConfigError, Settings
from extensions import CONFIG_ERROR_KEY, EXTENSION_KEY, Services
from identity.resolver import build_resolver
from logs import configure_logging
from stackone.budget import open_budget
from stackone.client import StackOneClient
from stackone.directory import AccountDirectory
from state import open_state
from web.access import RequestObserver, init_access_log
from web.body import MAX_BODY_BYTES
from web.context import tell_the_logs
from web.cors import init_cross_origin
from web.deadline import init_deadline
from web.framing import init_framing
from web.metrics import init_metrics
from web.owner_limit import init_owner_limit
from web.problems import register_problem_handlers
from web.views.health import wrong_url_recorder


def create_app(env: Mapping[str, str] | None = None) -> Flask:
    """Build the app from an environment mapping (os.environ by default); raises ConfigError when incomplete.

    Under the `flask` command (an operator's tool that names the owner itself) OWNER_AUTH is not needed, and an
    incomplete configuration is reported by the command that needs it, as one line, not while listing commands.
    """
    in_cli = click.get_current_context(silent=True) is not None
    try:
        settings = Settings.from_env(env, login_required=not in_cli)
    except ConfigError as exc:
        if not in_cli:
            raise
        return _cli_only_app(exc)
    app = Flask(__name__)
    app.config.from_mapping(MAX_CONTENT_LENGTH=MAX_BODY_BYTES, JSON_SORT_KEYS=False)
    configure_logging(
        settings.serving.log_level,
        secrets=(settings.stackone.api_key, settings.login.jwt_secret or "", settings.login.legacy_secret_key or "",
                 *settings.events.webhook_secrets, settings.events.app_webhook_secret or "",
                 settings.serving.admin_token or ""),
        log_format=settings.serving.log_format,
    )

    observer = RequestObserver()
    state = open_state(settings.state)
    client = StackOneClient(settings.stackone.api_url, settings.stackone.api_key, timeout=settings.stackone.timeout,
                            observer=observer, on_wrong_url=wrong_url_recorder(state, settings.stackone.api_url),
                            budget=open_budget(settings, state))
    app.extensions[EXTENSION_KEY] = Services(
        settings=settings,
        client=client,
        accounts=AccountDirectory(
            client,
            state,
            account_ttl=settings.stackone.account_cache_ttl,
            connectors_ttl=settings.stackone.connectors_cache_ttl,
            enabled_providers=settings.stackone.enabled_providers,
        ),
        resolver=build_resolver(settings),
        state=state,
    )

    tell_the_logs()
    register_problem_handlers(app)
    init_access_log(app)
    init_deadline(app, settings.stackone.request_deadline, trust_proxy=settings.serving.trusted_proxy_count > 0)
    init_framing(app)
    init_metrics(app, settings, observer.listeners)
    init_cross_origin(app, settings)
    from browserkit import bp as browserkit_bp
    from cli import register_cli
    from contract import EXTENSION as OPENAPI
    from contract import bp as contract_bp
    from contract import build_document
    from web.views.accounts import bp as accounts_bp
    from web.views.admin import bp as admin_bp
    from web.views.health import bp as health_bp
    from web.views.links import bp as links_bp
    from web.views.providers import bp as providers_bp
    from web.views.sessions import bp as sessions_bp
    from web.views.webhooks import bp as webhooks_bp

    app.extensions[OPENAPI] = build_document(settings)
    for blueprint in (health_bp, sessions_bp, links_bp, accounts_bp, providers_bp, webhooks_bp, browserkit_bp,
                      contract_bp, admin_bp):
        app.register_blueprint(blueprint)
    register_cli(app)
    init_owner_limit(app, settings, outage=getattr(state, "outage", None))
    if settings.serving.trusted_proxy_count:
        # Behind a load balancer or nginx: the client's address, scheme and host from X-Forwarded-*, trusting
        # exactly that many hops (the access log, the rate limit's diagnostics and the origin check see them).
        n = settings.serving.trusted_proxy_count
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)
    return app



def _cli_only_app(error: ConfigError) -> Flask:
    """An app that lists the commands and answers each with the configuration error (for `flask --help`)."""
    app = Flask(__name__)
    app.extensions[CONFIG_ERROR_KEY] = error
    from cli import register_cli

    register_cli(app)
    return app
