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

from tests.e2e_processes import gunicorn_stack
from tests.helpers import login

pytestmark = pytest.mark.e2e
KEY = "v1.sandbox.fuzz_key_0123456789"
SCHEMATHESIS = str(Path(sys.executable).with_name("schemathesis"))


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with gunicorn_stack(tmp_path_factory.mktemp("fuzz"), key=KEY, STACKONE_WEBHOOK_SECRETS="whsec_fuzz_0123456789",
                        STACKONE_ENABLED_PROVIDERS="bamboohr,hibob,greenhouse,salesforce",
                        # Thousands of requests from one owner, by design (made-up status tokens among them).
                        OWNER_RATE_LIMIT="", OWNER_STATUS_RATE_LIMIT="", STACKONE_RATE_LIMIT="") as stack:
        yield stack.url, stack.folder


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
