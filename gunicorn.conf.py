"""gunicorn settings for an I/O-bound proxy to StackOne: a process per core, a greenlet per connection."""

import logging
import os
import sys

bind = [os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"]
if os.environ.get("METRICS_BIND"):
    # A second, internal listener: the only one on which /metrics answers (keep it off the public network).
    bind.append(os.environ["METRICS_BIND"])
workers = int(os.environ.get("WEB_CONCURRENCY") or os.cpu_count() or 2)
# gevent (serving/worker.py): a slow or half-open client holds a greenlet, not one of a handful of threads.
# Chosen by measurement over gthread (README, "Slow clients and the worker model").
worker_class = "serving.worker.ServiceWorker"
worker_connections = int(os.environ.get("GUNICORN_WORKER_CONNECTIONS", "1000"))
# Above STACKONE_TIMEOUT times the retries, so a slow StackOne is answered with our 504, not a killed worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# Under gevent this also bounds how long a client may take to send its request line and headers.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Off by default: the app writes one richer line per request (logger "access": route, owner, action, StackOne
# time). GUNICORN_ACCESSLOG=- turns gunicorn's own line back on.
accesslog = os.environ.get("GUNICORN_ACCESSLOG") or None
# %(U)s is the path without the query string, so nothing a client puts there reaches the log; control
# characters in it are escaped by the log filter the app installs on gunicorn's handlers.
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(B)sB %(M)sms rid=%({x-request-id}o)s'
# gunicorn 27's control socket defaults to one path per user, which two instances on a host would share.
control_socket_disable = True


def on_starting(server):
    """Refuse to start, with one clear line, when the configuration is incomplete."""
    from config import ConfigError
    from serving.preflight import check_configuration

    try:
        notes = check_configuration()
    except ConfigError as exc:
        print(f"gunicorn: refusing to start: {exc.format_message()}", file=sys.stderr, flush=True)
        sys.exit(1)
    # Said once by the master, not once per worker.
    for level, line in notes:
        (server.log.warning if level >= logging.WARNING else server.log.info)(line)
    prepare_metrics_dir()


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
