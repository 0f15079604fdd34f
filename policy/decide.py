"""decide(): StackOne's create / update / multiple tables, enforced for one owner and one request."""

from __future__ import annotations

from errors import (
    AccountNotFound,
    AmbiguousAccount,
    ConflictingFields,
    DuplicateLabel,
    ProviderMismatch,
    ProviderNotEnabled,
)
from identity.owner import Owner
from policy.types import AccountLookup, Action, Decision, SessionRequest


def decide(owner: Owner, request: SessionRequest, accounts: AccountLookup) -> Decision:
    """Return the decision for this owner's request, or raise a refusal; nothing is sent to StackOne here."""
    # Rule 1: "edit this account" and "add another beside it" cannot both be meant.
    if request.account_id and request.multiple:
        raise ConflictingFields("Send either accountId (edit that account) or multiple: true (add another), not both")

    provider = request.provider
    if request.account_id:
        # Rule 2: the account must be the owner's; a stranger's account looks exactly like a missing one.
        account = accounts.account(request.account_id)
        if account is None or account.origin_owner_id != owner.id:
            raise AccountNotFound(f"No account {request.account_id!r} belongs to your organisation")
        if provider and account.provider and provider != account.provider:
            raise ProviderMismatch(
                f"Account {account.id!r} is a {account.provider!r} account, not {provider!r}",
                accountProvider=account.provider,
            )
        provider = provider or account.provider
        require_enabled(request.provider, accounts)
        return Decision(Action.UPDATE, provider=provider, account_id=account.id)

    # Rule 3: refuse a provider StackOne would refuse, before asking it to.
    require_enabled(provider, accounts)

    if request.multiple:
        # Rule 4: a new account beside the existing ones; labels are how the owner tells them apart.
        if provider and request.label:
            wanted = request.label.strip().casefold()
            for existing in accounts.owner_accounts(owner.id, provider):
                if existing.label and existing.label.strip().casefold() == wanted:
                    raise DuplicateLabel(
                        f"Your organisation already has a {provider!r} account labelled {request.label!r}",
                        accountId=existing.id,
                    )
        return Decision(Action.MULTIPLE, provider=provider)

    if provider:
        # Rule 5: none → create; one → edit it (by id, so a renamed owner still lands on it); several → ask.
        existing = accounts.owner_accounts(owner.id, provider)
        if not existing:
            return Decision(Action.CREATE, provider=provider)
        if len(existing) == 1:
            return Decision(Action.UPDATE, provider=provider, account_id=existing[0].id)
        raise AmbiguousAccount(
            f"Your organisation has {len(existing)} {provider!r} accounts: send accountId to pick one, "
            "or multiple: true to add another",
            # What a person needs to tell them apart: the label, else who connected it and when.
            candidates=[{"id": a.id, "label": a.label, "status": a.status, "provider": a.provider,
                         "providerName": a.provider_name, "originUsername": a.origin_username,
                         "createdAt": a.created_at} for a in existing],
        )

    # Rule 6: no provider: the hub opens at the provider (or category) selection.
    return Decision(Action.CREATE, provider=None)


def require_enabled(provider: str | None, accounts: AccountLookup) -> None:
    """Refuse a provider the StackOne project has not enabled, naming the ones it has."""
    if not provider:
        return
    enabled = accounts.enabled_providers()
    if provider not in enabled:
        keys = sorted(enabled)
        raise ProviderNotEnabled(f"The provider {provider!r} is not enabled for this StackOne project; enabled: "
                                 f"{', '.join(keys) or 'none'}", enabledProviders=keys)
