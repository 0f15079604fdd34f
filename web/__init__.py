"""The web layer: Flask's routes and everything per request (login, body and framing rules, problems, CORS, the
owner limit, the deadline, access lines, metrics). Below it only identity/ touches Flask, to read the legacy app's
session cookie in its own format (pyproject.toml's contracts say so)."""
