"""The audit trail: one line on the `audit` logger for each act that matters for security, never a secret.

Each line says what happened, who (owner id, user name), which account and provider, the action, the expiry and
StackOne's session id. Never a token, a JWT or a body: callers pass only those fields, and the log filter redacts
anything token-shaped that slips in.
"""

from __future__ import annotations

import logging
from typing import Any

from logs.context import caller

log = logging.getLogger("audit")

# Refusals worth an audit line: someone tried something they may not do.
AUDITED_REFUSALS = frozenset({"owner_fields_forbidden", "account_not_found", "session_not_found", "origin_not_allowed",
                              "invalid_signature", "rate_limited"})


def audit(what: str, /, **fields: Any) -> None:
    """Write one audit line: what happened plus the given fields (None values left out), with the caller's owner."""
    line: dict[str, Any] = {"audit": what, **caller(), **fields}
    log.info(what, extra={"fields": {k: v for k, v in line.items() if v is not None}})
