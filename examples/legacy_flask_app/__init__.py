"""A small legacy-style Flask app: its own login in Flask's session, and an integrations page on the service."""
