"""Run the legacy example app: `python -m examples.legacy_flask_app --port 5000` (loopback only)."""

from __future__ import annotations

import argparse

from examples.legacy_flask_app.app import create_app


def main() -> None:
    """Serve the example on 127.0.0.1 (LEGACY_SECRET_KEY from the environment)."""
    parser = argparse.ArgumentParser(description="A legacy-style Flask app using the StackOne connect service.")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    create_app().run(host="127.0.0.1", port=args.port)


if __name__ == "__main__":
    main()
