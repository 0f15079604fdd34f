"""Run the sandbox: `.venv/bin/python /srv/stackone-connect/sandbox --port 8001` from any folder (loopback only)."""

from __future__ import annotations

import argparse
import logging
import os
import sys

if not __package__:
    # Run by its path (as the docs write it, from any folder): Python put this folder itself first on sys.path, where
    # its modules would shadow the project's (`state`); the project root belongs there, so `sandbox.*` imports.
    sys.path[0] = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

from werkzeug.serving import run_simple  # noqa: E402

from sandbox.server import create_sandbox  # noqa: E402


def main() -> None:
    """Parse flags (secrets from the environment, so they stay out of `ps`) and serve on 127.0.0.1."""
    parser = argparse.ArgumentParser(description="A local StackOne stand-in for development and tests.")
    parser.add_argument("--port", type=int, default=int(os.environ.get("SANDBOX_PORT", "8001")))
    parser.add_argument("--webhook-url", default=os.environ.get("SANDBOX_WEBHOOK_URL"))
    args = parser.parse_args()
    api_key = os.environ.get("SANDBOX_API_KEY") or os.environ.get("STACKONE_API_KEY")
    if not api_key:
        parser.error("set SANDBOX_API_KEY: the key the service will present")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s sandbox %(levelname)s %(message)s")
    # werkzeug logs every request line, and hub URLs carry session tokens: keep those out of the log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    public_url = f"http://127.0.0.1:{args.port}"
    app = create_sandbox(api_key, public_url, args.webhook_url, os.environ.get("SANDBOX_WEBHOOK_SECRET"))
    run_simple("127.0.0.1", args.port, app, threaded=True)


if __name__ == "__main__":
    main()
