"""schemathesis against gunicorn and the sandbox, from GET /openapi.json: every operation, with and without a login.

Checks all of schemathesis' checks: no 5xx, every answer conforms to the document (status, content type, body),
schema-valid requests accepted and invalid ones refused.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e_processes import free_port, start, stop, wait_until_up
from tests.helpers import JWT_SECRET, login

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.fuzz_key_0123456789"
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    logs = tmp_path_factory.mktemp("fuzz")
    sandbox_port, port = free_port(), free_port()
    sandbox = start(["-m", "sandbox", "--port", str(sandbox_port)], {"SANDBOX_API_KEY": KEY}, logs / "sandbox.log")
    service = start(["-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"], {
        "BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2", "STACKONE_API_KEY": KEY,
        "STACKONE_API_URL": f"http://127.0.0.1:{sandbox_port}", "OWNER_AUTH": "jwt", "OWNER_JWT_SECRET": JWT_SECRET,
        "STATE_DIR": str(logs / "state"), "STACKONE_WEBHOOK_SECRETS": "whsec_fuzz_0123456789",
        "STACKONE_ENABLED_PROVIDERS": "bamboohr,hibob,greenhouse,salesforce",
        # Thousands of requests from one owner, by design (made-up status tokens among them).
        "OWNER_RATE_LIMIT": "", "OWNER_STATUS_RATE_LIMIT": "", "STACKONE_RATE_LIMIT": "",
    }, logs / "gunicorn.log")
    try:
        wait_until_up(f"http://127.0.0.1:{sandbox_port}/sandbox/calls", sandbox)
        wait_until_up(f"http://127.0.0.1:{port}/healthz", service)
        yield f"http://127.0.0.1:{port}", logs
    finally:
        stop(service)
        stop(sandbox)


CONFIG = Path(__file__).resolve().parent / "schemathesis.toml"


def fuzz(url: str, folder: Path, examples: int, *headers: str) -> tuple[int, int, str]:
    args = [SCHEMATHESIS, "--config-file", str(CONFIG), "run", f"{url}/openapi.json", "--checks", "all", "-n",
            str(examples), "--seed", "7"]
    for header in headers:
        args += ["-H", header]
    result = subprocess.run(args, cwd=folder, capture_output=True, text=True, timeout=600)
    generated = re.search(r"(\d+) generated", result.stdout)
    return result.returncode, (int(generated.group(1)) if generated else 0), result.stdout + result.stderr


def test_the_document_holds_under_fuzzing_with_and_without_a_login(live):
    url, logs = live
    code, with_login, report = fuzz(url, logs, 100, f"Authorization: Bearer {login(exp_in=3600)}")
    assert code == 0, report[-4000:]
    code, without, anonymous_report = fuzz(url, logs, 25)
    assert code == 0, anonymous_report[-4000:]
    assert with_login + without >= 1000
    log = (logs / "gunicorn.log").read_text()
    assert '"status":500' not in log and "Traceback" not in log
