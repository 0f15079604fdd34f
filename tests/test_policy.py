"""Each rule of the account policy, decided in plain Python against an in-memory account lookup."""

from __future__ import annotations

import pytest

from domain.accounts import Account
from errors import (
    AccountNotFound,
    AmbiguousAccount,
    ConflictingFields,
    DuplicateLabel,
    ProviderMismatch,
    ProviderNotEnabled,
)
from identity.owner import Owner
from policy import Action, Decision, SessionRequest, decide

OWNER = Owner("org-1", "Acme Inc", "ann@acme.test")


class InMemoryAccounts:
    """The policy's AccountLookup over a fixed set of accounts; it records what was looked up."""

    def __init__(self, *accounts: Account, enabled=("bamboohr", "hibob")) -> None:
        self.by_id = {a.id: a for a in accounts}
        self.enabled = frozenset(enabled)
        self.lookups: list[tuple] = []

    def owner_accounts(self, owner_id, provider=None):
        self.lookups.append(("owner_accounts", owner_id, provider))
        return [a for a in self.by_id.values() if a.origin_owner_id == owner_id
                and (provider is None or a.provider == provider) and not a.archived]

    def account(self, account_id):
        self.lookups.append(("account", account_id))
        return self.by_id.get(account_id)

    def enabled_providers(self):
        return self.enabled


def acct(account_id, provider="bamboohr", owner="org-1", label=None, status="active"):
    return Account(id=account_id, provider=provider, origin_owner_id=owner, status=status, label=label)


def request(**fields):
    return SessionRequest(expires_in=1800, **fields)


def test_rule1_account_id_with_multiple_conflicts_before_any_lookup():
    accounts = InMemoryAccounts(acct("a1"))
    with pytest.raises(ConflictingFields):
        decide(OWNER, request(account_id="a1", multiple=True), accounts)
    assert accounts.lookups == []


def test_rule2_own_account_is_updated_by_id():
    accounts = InMemoryAccounts(acct("a1", provider="hibob"))
    assert decide(OWNER, request(account_id="a1"), accounts) == Decision(Action.UPDATE, "hibob", "a1")


@pytest.mark.parametrize("account_id", ["missing", "someone-elses"])
def test_rule2_missing_and_foreign_accounts_get_the_same_refusal(account_id):
    accounts = InMemoryAccounts(acct("someone-elses", owner="org-2"))
    with pytest.raises(AccountNotFound) as refused:
        decide(OWNER, request(account_id=account_id), accounts)
    assert refused.value.status == 404
    assert "org-2" not in str(refused.value.detail)


def test_rule2_provider_must_match_the_account():
    accounts = InMemoryAccounts(acct("a1", provider="hibob"))
    with pytest.raises(ProviderMismatch):
        decide(OWNER, request(account_id="a1", provider="bamboohr"), accounts)


def test_rule2_matching_provider_is_accepted():
    accounts = InMemoryAccounts(acct("a1", provider="hibob"))
    assert decide(OWNER, request(account_id="a1", provider="hibob"), accounts).action is Action.UPDATE


def test_rule3_disabled_provider_is_refused_before_accounts_are_listed():
    accounts = InMemoryAccounts()
    with pytest.raises(ProviderNotEnabled):
        decide(OWNER, request(provider="workday"), accounts)
    assert accounts.lookups == []


def test_rule4_multiple_adds_beside_existing():
    accounts = InMemoryAccounts(acct("a1"))
    assert decide(OWNER, request(provider="bamboohr", multiple=True, label="EU"), accounts) == Decision(
        Action.MULTIPLE, "bamboohr")


def test_rule4_multiple_without_provider_is_passed_on():
    accounts = InMemoryAccounts(acct("a1"))
    assert decide(OWNER, request(multiple=True), accounts) == Decision(Action.MULTIPLE, None)
    assert accounts.lookups == []


def test_rule4_duplicate_label_is_refused_case_insensitively():
    accounts = InMemoryAccounts(acct("a1", label="EU payroll"))
    with pytest.raises(DuplicateLabel) as refused:
        decide(OWNER, request(provider="bamboohr", multiple=True, label="eu Payroll "), accounts)
    assert refused.value.status == 409
    assert refused.value.extra["accountId"] == "a1"


def test_rule4_labels_of_other_owners_do_not_count():
    accounts = InMemoryAccounts(acct("a1", owner="org-2", label="EU"))
    assert decide(OWNER, request(provider="bamboohr", multiple=True, label="EU"), accounts).action is Action.MULTIPLE


def test_rule5_no_existing_account_creates():
    accounts = InMemoryAccounts(acct("other", provider="hibob"), acct("theirs", owner="org-2"))
    assert decide(OWNER, request(provider="bamboohr"), accounts) == Decision(Action.CREATE, "bamboohr")


def test_rule5_one_existing_account_is_updated_by_id():
    accounts = InMemoryAccounts(acct("a1"), acct("old", status="archived"))
    assert decide(OWNER, request(provider="bamboohr"), accounts) == Decision(Action.UPDATE, "bamboohr", "a1")


def test_rule5_several_accounts_are_ambiguous_and_list_only_the_owners():
    accounts = InMemoryAccounts(acct("a1", label="EU"), acct("a2", label="US"), acct("x", owner="org-2"))
    with pytest.raises(AmbiguousAccount) as refused:
        decide(OWNER, request(provider="bamboohr"), accounts)
    assert refused.value.status == 409
    assert [{k: c[k] for k in ("id", "label", "status", "provider")} for c in refused.value.extra["candidates"]] == [
        {"id": "a1", "label": "EU", "status": "active", "provider": "bamboohr"},
        {"id": "a2", "label": "US", "status": "active", "provider": "bamboohr"}]
    assert {"originUsername", "createdAt", "providerName"} <= set(refused.value.extra["candidates"][0])


def test_rule6_no_provider_creates_without_looking_accounts_up():
    accounts = InMemoryAccounts(acct("a1"))
    assert decide(OWNER, request(categories=("hris",)), accounts) == Decision(Action.CREATE, None)
    assert accounts.lookups == []
