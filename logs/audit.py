"""The audit trail: one line on the `audit` logger for each act that matters for security, never a secret.

Each line says what happened, who (owner id, user name), which account and provider, the action, the expiry and
StackOne's session id. Never a token, a JWT or a body: callers pass only those fields, and the log filter redacts
anything token-shaped that slips in.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import g, has_request_context, request

log = logging.getLogger("audit")

# Refusals worth an audit line: someone tried something they may not do.
AUDITED_REFUSALS = frozenset({"owner_fields_forbidden", "account_not_found", "session_not_found", "origin_not_allowed",
                              "invalid_signature", "rate_limited"})


def audit(what: str, /, **fields: Any) -> None:
    """Write one audit line: what happened plus the given fields (None values left out), with the caller's owner."""
    line: dict[str, Any] = {"audit": what}
    if has_request_context():
        owner = g.get("owner")
        if owner is not None:
            line.update(owner_id=owner.id, username=owner.username)
        line["route"] = request.url_rule.rule if request.url_rule else None
        line["client"] = request.remote_addr
    line.update(fields)
    log.info(what, extra={"fields": {k: v for k, v in line.items() if v is not None}})
