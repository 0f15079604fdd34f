"""gunicorn settings for the bench's reference apps: nothing (so the project's gunicorn.conf.py is not picked up)."""
