"""Offboarding a customer: delete every StackOne account of one owner (paged, one delete each, resumable), with one
audit line per account and a summary. A rerun after a failure finishes the job; a second run finds nothing."""

from __future__ import annotations

from dataclasses import dataclass, field

from errors import AccountNotFound, ServiceError
from logs.audit import audit


@dataclass
class OffboardSummary:
    """What one run did (a dry run: what it would delete, and nothing deleted)."""

    owner_id: str
    dry_run: bool
    deleted: list[str] = field(default_factory=list)
    would_delete: list[str] = field(default_factory=list)
    already_gone: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        """camelCase, for the CLI's --json and the HTTP form."""
        return {"ownerId": self.owner_id, "dryRun": self.dry_run, "deleted": self.deleted,
                "wouldDelete": self.would_delete, "alreadyGone": self.already_gone, "failed": self.failed,
                "complete": not self.failed}


def offboard(owner_id: str, *, client, monitor=None, dry_run: bool = False, via: str) -> OffboardSummary:
    """Delete (or, dry, list) each of the owner's accounts; a failed delete is reported and the rest go on."""
    summary = OffboardSummary(owner_id, dry_run)
    accounts = client.list_accounts(owner_id)
    for account in accounts:
        if dry_run:
            summary.would_delete.append(account.id)
            continue
        try:
            client.delete_account(account.id)
        except AccountNotFound:
            summary.already_gone.append(account.id)
        except ServiceError as exc:
            summary.failed.append(account.id)
            audit("offboard_failed", via=via, owner_id=owner_id, account_id=account.id, code=exc.code)
            continue
        else:
            summary.deleted.append(account.id)
            audit("account_offboarded", via=via, owner_id=owner_id, account_id=account.id, provider=account.provider)
        if monitor is not None:
            # Announced as read just before the delete, also when never seen here; once (a later webhook or rerun
            # finds its deletion announced). One gone meanwhile is announced here if no one did.
            monitor.deleted_here(account, "offboard")
    if dry_run:
        audit("offboard_summary", via=via, owner_id=owner_id, dry_run=True, would_delete=len(summary.would_delete),
              deleted=0)
    else:
        audit("offboard_summary", via=via, owner_id=owner_id, dry_run=False, deleted=len(summary.deleted),
              already_gone=len(summary.already_gone), failed=len(summary.failed))
    return summary
