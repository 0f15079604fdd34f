"""The web layer: Flask's routes and everything per request (login, body and framing rules, problems, CORS, the
owner limit, the deadline, access lines). Nothing below this package imports Flask."""
