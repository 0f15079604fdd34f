"""gunicorn settings for an I/O-bound proxy to StackOne: a process per core, a greenlet per connection.

gunicorn.conf.py imports this module, so `gunicorn -c gunicorn.conf.py wsgi:app`, `-c python:serving.gunicorn_settings`
and an operator's own config file that starts with `from serving.gunicorn_settings import *` all run the same
worker, checks and listeners. wsgi.py refuses to load under a gunicorn that read none of them.
"""

import json
import logging
import os
import sys
import time
from typing import NoReturn

from config import ConfigError, Settings
from config.serving import GunicornSettings, refusal_format
from web.listeners import parse_bind, publish_metrics_sockets

# Set by on_starting to the master's pid: wsgi.py's proof that these settings, not gunicorn's defaults, are in force.
SETTINGS_MARKER = "STACKONE_CONNECT_GUNICORN_MASTER"
WORKER_CLASS = "serving.worker.ServiceWorker"


def refusal_line(reason: str) -> str:
    """The one line that says why the service will not start: JSON with LOG_FORMAT=json (the default), else text."""
    text = f"gunicorn: refusing to start: {reason}"
    if refusal_format() != "json":
        return text
    from logs.formats import utc_timestamp

    return json.dumps({"time": utc_timestamp(time.time()), "level": "CRITICAL", "logger": "gunicorn.error",
                       "message": text, "request_id": "-"}, separators=(",", ":"))


def refuse(reason: str) -> NoReturn:
    """Stop the master with one line on stderr, before any socket is bound or worker forked."""
    print(refusal_line(reason), file=sys.stderr, flush=True)
    sys.exit(1)


def read_gunicorn_settings() -> GunicornSettings:
    """gunicorn's own settings (config/serving.py); a mistyped one ('5s', 'two') stops start-up naming it."""
    try:
        return GunicornSettings.from_env()
    except ConfigError as exc:
        refuse(exc.format_message())


# Parsed once, in the master as it reads this file; each worker is forked with it (serving/worker.py reads
# body_read_timeout, serving/gunicorn_logging.py log_format).
GUNICORN = read_gunicorn_settings()
# The service's settings as on_starting parsed them, for the master's later hooks.
_master_settings: Settings | None = None

bind = [GUNICORN.bind]
workers = GUNICORN.workers
# gevent (serving/worker.py): a slow or half-open client holds a greenlet, not one of a handful of threads.
# Chosen by measurement over gthread (docs/benchmark.md, "Slow clients and the worker model").
worker_class = WORKER_CLASS
worker_connections = GUNICORN.worker_connections
# Above STACKONE_TIMEOUT times the retries, so a slow StackOne is answered with our 504, not a killed worker.
timeout = GUNICORN.timeout
graceful_timeout = GUNICORN.graceful_timeout
# Under gevent this also bounds how long a client may take to send its request line and headers.
keepalive = GUNICORN.keepalive
# Off by default: the app writes one richer line per request (logger "access": route, owner, action, StackOne
# time). GUNICORN_ACCESSLOG=- turns gunicorn's own line back on.
accesslog = GUNICORN.accesslog
# %(U)s is the path without the query string, so nothing a client puts there reaches the log; control
# characters in it are escaped by the log filter the app installs on gunicorn's handlers.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)sB %(M)sms rid=%({x-request-id}o)s'
# The master's own lines in the service's format too (JSON by default): serving/gunicorn_logging.py.
logger_class = "serving.gunicorn_logging.ServiceLogger"
# gunicorn 27's control socket defaults to one path per user, which two instances on a host would share.
control_socket_disable = True


def with_metrics_bind(binds: list[str], metrics_bind: str | None) -> list[str]:
    """The listeners to bind: gunicorn's (from -b, --bind, BIND or a config file) plus METRICS_BIND's.

    gunicorn's -b replaces a config file's bind list, so the metrics listener is added here, after the command line
    has been read. METRICS_BIND naming a public listener's own address would serve the API and the scrape on one
    socket: that refuses.
    """
    if not metrics_bind:
        return list(binds)
    wanted = parse_bind(metrics_bind)
    others = [b for b in binds if parse_bind(b) != wanted]
    if len(others) < len(binds):
        refuse(f"METRICS_BIND={metrics_bind} is also a public listener (-b/--bind/BIND): give the metrics "
               "listener an address of its own")
    if not others:
        refuse("METRICS_BIND is set but there is no public listener to serve the API")
    return [*others, metrics_bind]


def on_starting(server):
    """Refuse to start, with one clear line, when the configuration is incomplete; add the metrics listener."""
    global _master_settings
    from serving.preflight import checked_settings

    try:
        _master_settings, notes = checked_settings()
    except ConfigError as exc:
        refuse(exc.format_message())
    if server.cfg.worker_class_str != WORKER_CLASS:
        refuse(f"this service runs on its own worker ({WORKER_CLASS}), not {server.cfg.worker_class_str!r}: "
               "drop -k/--worker-class")
    metrics_bind = master_metrics_bind()
    server.cfg.set("bind", with_metrics_bind(server.cfg.bind, metrics_bind))
    os.environ[SETTINGS_MARKER] = str(os.getpid())
    # Said once by the master, not once per worker.
    for level, line in notes:
        (server.log.warning if level >= logging.WARNING else server.log.info)(line)
    if metrics_bind:
        server.log.info("Metrics only at: http://%s/metrics", metrics_bind)
    prepare_metrics_dir()


def when_ready(server):
    """The listeners are bound: tell the workers (forked next) which socket is the metrics one."""
    publish_metrics_sockets(server.LISTENERS, master_metrics_bind())


def master_settings() -> Settings | None:
    """The service's settings as on_starting parsed them, inherited by every forked worker (None before it ran, or
    outside gunicorn): the workers build their app from them rather than parsing the environment again."""
    return _master_settings


def master_metrics_bind() -> str | None:
    """METRICS_BIND as on_starting parsed it (None before it ran, as for a config file that skips it)."""
    return _master_settings.serving.metrics_bind if _master_settings else None


def on_reload(server):
    """A SIGHUP re-reads the command line: say so if that dropped the metrics listener (restart to bring it back)."""
    metrics_bind = master_metrics_bind()
    if metrics_bind and not any(getattr(s, "cfg_addr", None) == parse_bind(metrics_bind) for s in server.LISTENERS):
        server.log.warning("METRICS_BIND=%s is not served after this reload: restart gunicorn to serve it",
                           metrics_bind)
    publish_metrics_sockets(server.LISTENERS, metrics_bind)


def prepare_metrics_dir():
    """prometheus-client's multiprocess directory: emptied at start, inherited by every worker."""
    import shutil
    import tempfile

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.path.join(
        tempfile.gettempdir(), f"stackone-connect-metrics-{os.getuid()}-{os.getpid()}")
    shutil.rmtree(folder, ignore_errors=True)
    os.makedirs(folder, mode=0o700)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder


def on_exit(server):
    """Remove the metrics directory this master made."""
    import shutil

    shutil.rmtree(os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""), ignore_errors=True)


def child_exit(server, worker):
    """A dead worker's live gauges stop counting (its counters stay in the sum, as they should)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
