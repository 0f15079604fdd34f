"""gunicorn settings for the benchmarks that weigh worker models (bench/slow_clients.py, bench/proxy_floor.py): the
service's own (serving/gunicorn_settings.py), with `-k` obeyed so that gthread can be measured beside our gevent
worker. For the bench only: started with the service's own settings, any worker but ours is refused."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from serving import gunicorn_settings as ours  # noqa: E402
from serving.gunicorn_settings import *  # noqa: E402,F401,F403 - every setting as the service has it


def on_starting(server):
    """The service's start-up checks and set-up, with the worker the command line chose accepted."""
    chosen = server.cfg.worker_class_str
    server.cfg.set("worker_class", ours.WORKER_CLASS)  # the arbiter has loaded the chosen class already
    try:
        ours.on_starting(server)
    finally:
        server.cfg.set("worker_class", chosen)
