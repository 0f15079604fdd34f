"""Programs some tests need from the system (nginx, Chromium, systemd-analyze): skipped loudly, never in CI."""

from __future__ import annotations

import os
import shutil

import pytest

# .ci/run installs every program listed here and sets this, so CI fails rather than skips.
from support.processes import REQUIRED_ENV  # noqa: E402 - one name for the switch


def require(program: str, install_hint: str) -> str:
    """The program's path; skip with a loud reason when it is missing, or fail when the run requires it."""
    path = shutil.which(program) or (f"/usr/sbin/{program}" if os.path.exists(f"/usr/sbin/{program}") else None)
    if path:
        return path
    message = f"{program} is not installed ({install_hint}); .ci/run installs it"
    if os.environ.get(REQUIRED_ENV):
        pytest.fail(message)
    pytest.skip(f"SKIPPED LOUDLY: {message}")
