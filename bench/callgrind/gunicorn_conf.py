"""gunicorn settings for bench/instructions.py: a contender's own settings, plus SIGUSR2 to start and stop counting.

BENCH_BASE_CONFIG names the contender's settings file (the project's gunicorn.conf.py, or the reference apps'
empty one); BENCH_PROBE the shared library built from probe.c. The first SIGUSR2 a worker gets turns callgrind's
counting on at zero, the second dumps what was counted; each leaves a marker file beside the library.
"""

import ctypes
import os
import signal

exec(compile(open(os.environ["BENCH_BASE_CONFIG"]).read(), os.environ["BENCH_BASE_CONFIG"], "exec"))  # noqa: S102

_base_post_worker_init = globals().get("post_worker_init")


def post_worker_init(worker):
    """After the worker's own signal handlers: SIGUSR2 toggles counting (start, then dump)."""
    if _base_post_worker_init:
        _base_post_worker_init(worker)
    probe = ctypes.CDLL(os.environ["BENCH_PROBE"])
    marker = os.path.dirname(os.environ["BENCH_PROBE"])
    calls = []

    def toggle(signum, frame):
        step = "started" if not calls else "dumped"
        (probe.probe_start if not calls else probe.probe_stop)()
        calls.append(step)
        with open(os.path.join(marker, f"{step}.{os.getpid()}"), "w"):
            pass

    signal.signal(signal.SIGUSR2, toggle)
