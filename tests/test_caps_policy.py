"""ACCOUNT_LIMITS as plain rules: what counts against a cap, what passes one, and what is never refused."""

from __future__ import annotations

import pytest

from domain.accounts import Account
from errors import AccountLimitReached
from policy import Action, Decision
from policy.caps import AccountLimits, Reservation, check_caps, still_pending

LIMITS = AccountLimits(total=3, per_provider={"hibob": 1})


def acct(account_id, provider="bamboohr", status="active", label=None):
    return Account(account_id, provider, "org-1", status=status, label=label)


def test_a_create_under_every_cap_passes():
    check_caps(LIMITS, Decision(Action.CREATE, "bamboohr"), [acct("a1"), acct("a2")], [])


def test_a_create_that_would_pass_the_total_is_refused_naming_the_cap_and_the_accounts():
    with pytest.raises(AccountLimitReached) as refused:
        check_caps(LIMITS, Decision(Action.MULTIPLE, "bamboohr"), [acct("a1", label="EU"), acct("a2"), acct("a3")], [])
    assert refused.value.extra["limit"] == {"name": "total", "max": 3}
    assert [a["id"] for a in refused.value.extra["accounts"]] == ["a1", "a2", "a3"]
    assert refused.value.extra["accounts"][0]["label"] == "EU" and refused.value.status == 409


def test_a_providers_own_cap_is_checked_before_the_total():
    with pytest.raises(AccountLimitReached) as refused:
        check_caps(LIMITS, Decision(Action.CREATE, "hibob"), [acct("h1", "hibob")], [])
    assert refused.value.extra["limit"] == {"name": "hibob", "max": 1}


def test_an_update_is_never_refused_by_a_cap():
    check_caps(LIMITS, Decision(Action.UPDATE, "hibob", "h1"), [acct("h1", "hibob"), acct("a2"), acct("a3")], [])


def test_archived_accounts_do_not_count():
    check_caps(LIMITS, Decision(Action.CREATE, "hibob"), [acct("h1", "hibob", status="archived")], [])


def test_sessions_being_connected_count_until_they_complete():
    pending = [Reservation("hibob", at=100.0, until=2000.0)]
    with pytest.raises(AccountLimitReached) as refused:
        check_caps(LIMITS, Decision(Action.CREATE, "hibob"), [], pending)
    assert refused.value.extra["pendingSessions"] == 1


def test_no_caps_refuse_nothing():
    check_caps(AccountLimits(), Decision(Action.CREATE, "hibob"), [acct(str(n), "hibob") for n in range(50)], [])


def test_a_reservation_is_consumed_by_the_account_it_made_and_dropped_when_expired():
    old = frozenset({"h-old"})
    kept = [Reservation("hibob", 100.0, 2000.0, old), Reservation("bamboohr", 150.0, 2000.0, old),
            Reservation(None, 160.0, 2000.0, old | {"b-new"}), Reservation("hibob", 10.0, 50.0)]
    accounts = [acct("h-old", "hibob"), acct("h-new", "hibob"), acct("b-new")]
    left = still_pending(kept, accounts, now=1000.0)
    # h-new consumed the hibob reservation, b-new the bamboohr one; h-old was there already (it consumes nothing,
    # however its time compares); the category-only one had seen b-new, so it waits; the expired one is gone.
    assert left == [Reservation(None, 160.0, 2000.0, old | {"b-new"})]
