"""gunicorn's own log lines (the master's Starting, Listening, Booting, Shutting down) in the service's format: with
LOG_FORMAT=json (the default) every line a process of the service writes is one JSON object."""

from __future__ import annotations

from gunicorn import glogging

from logs.formats import formatter
from serving.gunicorn_settings import GUNICORN


class ServiceLogger(glogging.Logger):
    """gunicorn's Logger, its handlers given the service's formatter as soon as they exist (before the first line)."""

    def setup(self, cfg):
        """Set up as gunicorn does, then format as LOG_FORMAT says."""
        super().setup(cfg)
        if GUNICORN.log_format != "json":
            return  # gunicorn's own text lines, as before
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter("json"))
