"""Logging for the service and for gunicorn: one line per record, secrets redacted, control characters escaped."""

from logs.setup import SafeLogFilter, configure_logging

__all__ = ["SafeLogFilter", "configure_logging"]
