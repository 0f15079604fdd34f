"""gunicorn's master checks the configuration without importing what the gevent worker must patch first."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

from tests.e2e_processes import ROOT
from tests.helpers import API_KEY, JWT_SECRET

CHECK = """
import json, sys
from serving.preflight import check_configuration
notes = check_configuration()
print(json.dumps({"notes": notes, "loaded": sorted(m for m in ("requests", "urllib3", "jwt", "gevent")
                                                   if m in sys.modules)}))
"""


def test_the_masters_check_leaves_requests_and_urllib3_unimported(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "STACKONE_API_KEY": API_KEY, "OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": JWT_SECRET,
           "STATE_DIR": str(tmp_path / "state")}
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=30, check=True)
    answer = json.loads(result.stdout)
    assert answer["loaded"] == []  # imported before gevent's patch, they would hold the blocking ssl and socket
    assert any("STACKONE_WEBHOOK_SECRETS is not set" in line for _, line in answer["notes"])


def test_a_worker_builds_its_app_from_the_settings_its_master_parsed(env, monkeypatch):
    from config import Settings
    from extensions import EXTENSION_KEY
    from serving import entry

    parsed = Settings.from_env({**env, "SERVICE_NAME": "parsed-by-the-master"})
    monkeypatch.setattr("serving.gunicorn_settings._master_settings", parsed)
    assert entry.load_app().extensions[EXTENSION_KEY].settings is parsed


def test_links_of_ours_without_stackones_events_are_warned_of_at_start(env):
    from config import Settings
    from serving.preflight import startup_notes

    def warnings(**extra):
        notes = startup_notes(Settings.from_env({**env, **extra}))
        return [line for level, line in notes if level >= logging.WARNING and "AUTH_LINK_BASE_URL" in line]

    assert len(warnings(AUTH_LINK_BASE_URL="https://connect.example.com", STACKONE_WEBHOOK_SECRETS="")) == 1
    assert warnings(AUTH_LINK_BASE_URL="https://connect.example.com", STACKONE_WEBHOOK_SECRETS="whsec_0123456789") == []
