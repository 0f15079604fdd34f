"""The WSGI app for wsgi.py: refused, in one line, under a gunicorn that did not read this service's settings."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask

from serving.gunicorn_settings import SETTINGS_MARKER, refusal_line

CONFIG_FILE = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


def read_our_settings() -> bool:
    """True when this process's gunicorn master ran serving.gunicorn_settings' on_starting (or no gunicorn runs)."""
    if "gunicorn.arbiter" not in sys.modules:
        return True  # another WSGI server, or an import from Python: nothing to check
    return os.environ.get(SETTINGS_MARKER) in (str(os.getpid()), str(os.getppid()))


def load_app() -> Flask:
    """create_app(), or gunicorn's AppImportError (printed as one line, then gunicorn stops) when misconfigured."""
    if not read_our_settings():
        from gunicorn.errors import AppImportError

        # Without our settings gunicorn runs its sync worker, skips the configuration check and the metrics listener.
        # gunicorn prints the message as it is: the line itself is in LOG_FORMAT's form.
        raise AppImportError(refusal_line(
            f"gunicorn did not read this service's settings; start it with `gunicorn -c {CONFIG_FILE} wsgi:app` "
            "(or begin your own config file with `from serving.gunicorn_settings import *`)"))
    from app import create_app
    from connections import background
    from extensions import EXTENSION_KEY
    from serving.gunicorn_settings import master_settings

    app = create_app(settings=master_settings())  # parsed once by gunicorn's master (None without gunicorn)
    if "gunicorn.arbiter" in sys.modules:
        svc = app.extensions[EXTENSION_KEY]
        if svc.settings.events.app_webhook_url:  # accounts are tracked (and so reconciled) for the customer's app only
            # In the worker: send events, remind, reconcile on schedule.
            background.start(lambda: svc.run_due(passes=True), svc.schedule_reconcile,
                             svc.settings.events.sweep_seconds)
        _check_redis_duties(app)
    return app


def _check_redis_duties(app: Flask) -> None:
    # In a worker, not the master: redis-py imports ssl, which the master must leave for gevent to patch first.
    from extensions import EXTENSION_KEY

    settings = app.extensions[EXTENSION_KEY].settings
    if settings.state.redis_url:
        from state.redis_duties import start_check

        start_check(app.extensions[EXTENSION_KEY].state, settings.state.redis_url, settings.state.redis_timeout)
