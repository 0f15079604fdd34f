"""Offboarding a customer: delete every StackOne account of one owner (paged, one delete each, resumable), with one
audit line per account and a summary. A rerun after a failure finishes the job; a second run finds nothing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from connections.changes import Observation
from errors import AccountNotFound, ServiceError
from logs.audit import audit


@dataclass
class OffboardSummary:
    """What one run did."""

    owner_id: str
    dry_run: bool
    deleted: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        """camelCase, for the CLI's --json and the HTTP form."""
        return {"ownerId": self.owner_id, "dryRun": self.dry_run, "deleted": self.deleted,
                "alreadyGone": self.already_gone, "failed": self.failed, "complete": not self.failed}


def offboard(owner_id: str, *, client, monitor=None, dry_run: bool = False, via: str) -> OffboardSummary:
    """Delete (or, dry, list) each of the owner's accounts; a failed delete is reported and the rest go on."""
    summary = OffboardSummary(owner_id, dry_run)
    accounts = [a for a in client.list_accounts(owner_id) if a.origin_owner_id == owner_id]
    for account in accounts:
        if dry_run:
            summary.deleted.append(account.id)
            continue
        try:
            client.delete_account(account.id)
        except AccountNotFound:
            summary.already_gone.append(account.id)
            continue
        except ServiceError as exc:
            summary.failed.append(account.id)
            audit("offboard_failed", via=via, owner_id=owner_id, account_id=account.id, code=exc.code)
            continue
        summary.deleted.append(account.id)
        audit("account_offboarded", via=via, owner_id=owner_id, account_id=account.id, provider=account.provider)
        if monitor is not None:
            monitor.apply(Observation(account.id, owner_id, deleted=True), (monitor.now(), time.time_ns()),
                          "offboard")
    audit("offboard_summary", via=via, owner_id=owner_id, dry_run=dry_run, deleted=len(summary.deleted),
          already_gone=len(summary.already_gone), failed=len(summary.failed))
    return summary
