"""An archived account counts for nothing, whatever StackOne's case, whether read live or from the shared cache."""

from __future__ import annotations

from domain.accounts import Account
from sessions.flow import _LiveLookup
from stackone.directory import AccountDirectory
from state.sqlite_state import open_sqlite_state


class Listing:
    """A StackOne client that knows one owner's accounts and counts how often it is asked."""

    def __init__(self, *accounts: Account) -> None:
        self.accounts = list(accounts)
        self.asked = 0

    def list_accounts(self, owner_id, provider=None):
        self.asked += 1
        return [a for a in self.accounts if a.origin_owner_id == owner_id]


def test_a_cached_archived_account_is_left_out_as_the_live_lookup_leaves_it_out(tmp_path):
    client = Listing(Account("a1", "hibob", "org-1", status="active"),
                     Account("a2", "hibob", "org-1", status="Archived"))
    directory = AccountDirectory(client, open_sqlite_state(str(tmp_path / "state")), account_ttl=60, connectors_ttl=60)
    live = [a.id for a in _LiveLookup(client, directory).owner_accounts("org-1", None)]
    first = [a.id for a in directory.owner_accounts("org-1")]
    cached = [a.id for a in directory.owner_accounts("org-1")]
    assert live == first == cached == ["a1"]
    assert client.asked == 2  # once live, once to fill the cache: the third answer came from the cache
    assert [a.id for a in directory.owner_accounts("org-1", include_archived=True)] == ["a1", "a2"]
