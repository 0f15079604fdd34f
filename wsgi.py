"""gunicorn's entry point: `gunicorn -c gunicorn.conf.py wsgi:app` (or any config that imports our settings)."""
from serving.entry import load_app

app = load_app()
