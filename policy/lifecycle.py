"""Owner checks for what happens after a session is minted: disconnecting an account, asking how a session went."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from domain.accounts import ATTEMPT_STATUSES, Account, SessionDetails
from domain.times import iso_utc, parse_iso
from errors import AccountNotFound, SessionNotFound
from identity.owner import Owner
from policy.types import AccountLookup


def account_to_disconnect(owner: Owner, account_id: str, accounts: AccountLookup) -> Account:
    """The owner's account by id, checked live; someone else's looks exactly like a missing one (404)."""
    account = accounts.account(account_id)
    if account is None or account.origin_owner_id != owner.id:
        raise AccountNotFound(f"No account {account_id!r} belongs to your organisation")
    return account


def session_status(owner: Owner, details: SessionDetails, *, expires_at: datetime | None,
                   now: datetime | None = None) -> dict[str, str]:
    """What a page may learn of its session: status, and the account and provider once known.

    A session minted for another owner is a 404 that tells nothing of it. Without an attempt yet the session is
    pending, or expired once its lifetime is over (an attempt still pending then can no longer complete).
    """
    if details.origin_owner_id is None or details.origin_owner_id != owner.id:
        raise SessionNotFound()
    now = now or datetime.now(UTC)
    created = parse_iso(details.created_at)
    if created is not None and details.expires_in is not None:
        expires_at = created + timedelta(seconds=details.expires_in)
    status = details.attempt_status if details.attempt_status in ATTEMPT_STATUSES else "pending"
    if status == "pending" and expires_at is not None and now >= expires_at:
        status = "expired"
    answer = {"status": status}
    account_id = details.attempt_account_id if status == "authenticated" else None
    if account_id or details.account_id:
        answer["accountId"] = account_id or details.account_id
    if details.provider:
        answer["provider"] = details.provider
    if expires_at is not None:
        answer["expiresAt"] = iso_utc(expires_at)
    return answer


def completion_from_accounts(details: SessionDetails, accounts: list[Account]) -> SessionDetails:
    """The session's outcome read off the owner's live accounts, for a StackOne that reports no attempts.

    An update session (it names an account) is authenticated once that account's updated_at is after the session's
    created_at; a create or multiple session once an account of the owner for the session's provider (any provider
    for a category-only session) was created after it, the newest such account being the one. It cannot tell two
    sessions open at once for the same provider apart: the first to look claims the newest account.
    """
    created = parse_iso(details.created_at)
    if created is None:
        return details
    if details.account_id:
        mended = [a for a in accounts if a.id == details.account_id and (parse_iso(a.updated_at) or created) > created]
        found = mended[0] if mended else None
    else:
        made = [a for a in accounts if (not details.provider or a.provider == details.provider)
                and (parse_iso(a.created_at) or created) > created]
        found = max(made, key=lambda a: parse_iso(a.created_at)) if made else None
    if found is None:
        return details
    return replace(details, attempt_status="authenticated", attempt_account_id=found.id,
                   provider=details.provider or found.provider)
