"""How the service runs under gunicorn: its worker, and the checks the master makes before any worker starts."""
