"""Install one stderr handler and the safety filter on it and on gunicorn's own handlers."""

from __future__ import annotations

import logging

from logs.context import request_id
from logs.formats import formatter
from logs.redaction import escape_controls, redact, secret_forms

# gunicorn's loggers have their own handlers (error log, access log); they get the same filter.
GUNICORN_LOGGERS = ("gunicorn.error", "gunicorn.access")


class SafeLogFilter(logging.Filter):
    """Attaches the request id; redacts tokens and secrets; withholds tracebacks; escapes control characters."""

    def __init__(self, secrets: tuple[str, ...] = ()) -> None:
        super().__init__()
        self.forms = secret_forms(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id()
        original = record.getMessage()
        message = original
        if record.exc_info or record.stack_info:
            # Libraries (and gunicorn) log tracebacks too; keep the type, drop the rest.
            exc_type = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else "stack"
            message = f"{message} [{exc_type}; traceback withheld]"
            record.exc_info = record.exc_text = record.stack_info = None
        # Escaped last: a path such as /healthz%0A2026-... CRITICAL ... must not forge a second line.
        message = escape_controls(redact(message, self.forms))
        if message != original or record.args:
            # Formatted once here: the formatter (and the next handler's filter) need not format it again.
            record.msg, record.args = message, None
        return True


def _install(handler: logging.Handler, secrets: tuple[str, ...], log_format: str) -> None:
    handler.filters = [f for f in handler.filters if not isinstance(f, SafeLogFilter)]
    handler.addFilter(SafeLogFilter(secrets))
    handler.setFormatter(formatter(log_format))


def configure_logging(level: str, secrets: tuple[str, ...], log_format: str = "text") -> None:
    """One stderr handler on the root logger (once per process); the filter and format on every handler we use."""
    root = logging.getLogger()
    handler = next((h for h in root.handlers if getattr(h, "_stackone_connect", False)), None)
    if handler is None:
        handler = logging.StreamHandler()
        handler._stackone_connect = True
        root.addHandler(handler)
    _install(handler, secrets, log_format)
    for name in GUNICORN_LOGGERS:
        for gunicorn_handler in logging.getLogger(name).handlers:
            _install(gunicorn_handler, secrets, log_format)
    root.setLevel(level.upper())
    # What no format here prints is not gathered for each record (the logging HOWTO's "Optimization"): caller
    # frame, thread, process and multiprocessing names. About a sixth of the cost of a line.
    logging._srcfile = None
    logging.logThreads = logging.logProcesses = logging.logMultiprocessing = False
