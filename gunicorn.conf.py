"""gunicorn's config file for this service: every setting lives in serving/gunicorn_settings.py.

An operator's own config file can start with the same import and override what it needs.
"""

import os
import sys

# gunicorn reads this file before it applies --chdir, and a config file's own folder is not on sys.path.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from serving.gunicorn_settings import *  # noqa: E402, F403
