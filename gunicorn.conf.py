"""gunicorn settings for an I/O-bound proxy to StackOne: a process per core, threads for waiting on the network."""

import logging
import os
import sys

bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"
# Each request mostly waits on StackOne, so threads (gthread) carry the concurrency, not processes.
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# Above STACKONE_TIMEOUT times the retries, so a slow StackOne is answered with our 504, not a killed worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # empty: no access log
# %(U)s is the path without the query string, so nothing a client puts there reaches the log.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)sB %(M)sms rid=%({x-request-id}o)s'


def on_starting(server):
    """Refuse to start, with one clear line, when the configuration is incomplete."""
    from config import ConfigError

    try:
        from app import create_app, startup_notes

        app = create_app()
    except ConfigError as exc:
        print(f"gunicorn: refusing to start: {exc.format_message()}", file=sys.stderr, flush=True)
        sys.exit(1)
    # Said once by the master, not once per worker.
    for level, line in startup_notes(app.extensions["stackone_connect"].settings):
        (server.log.warning if level >= logging.WARNING else server.log.info)(line)
