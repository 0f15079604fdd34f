"""Slow clients for the serving tests: support/slow_clients.py's, under the name the tests import."""

from support.slow_clients import hold_slow_clients

__all__ = ["hold_slow_clients"]
