"""No caller waits past REQUEST_DEADLINE + 0.5 s, reuse included: StackOne (a TLS stand-in) answering in 2 s, one
owner's identical requests from 64 callers for 20 s, STACKONE_TIMEOUT=3 and REQUEST_DEADLINE=5, session reuse on (its
default). Prints how many answers came past the deadline and past it + 0.5 s, and the worst wait. Loopback only."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.slow_upstream import slow_upstream  # noqa: E402
from bench.tls_standin import certificate  # noqa: E402
from support.logins import login  # noqa: E402

DEADLINE = 5.0


def main() -> None:
    """Run the load and print the figures."""
    folder = Path(tempfile.mkdtemp(prefix="bench-deadline-"))
    cert, key = certificate(folder)
    # One owner, one user, one body: every request identical, so reuse hands out (or checks) one kept session.
    slow_upstream(folder, cert, key, {"Authorization": f"Bearer {login(exp_in=3600)}"},
                  env={"STACKONE_TIMEOUT": "3", "REQUEST_DEADLINE": str(DEADLINE)}, deadline=DEADLINE,
                  what="one owner's identical requests, reuse on, STACKONE_TIMEOUT=3")


if __name__ == "__main__":
    main()
