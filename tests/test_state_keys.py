"""Every shared-state key keeps its exact bytes across versions: data a previous version stored must still be found
after an upgrade. Each family of state/keys.py is pinned for one sample input, and docs/operating.md's table ("The
shared state's keys") lists every one of them in the form the file builds."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from connections.ledger_redis import RedisLedger
from identity.owner import Owner
from policy import Action, Decision, SessionRequest
from sessions.idempotency import fingerprint
from sessions.reuse import reuse_key
from state import keys
from state.redis_state import RedisState

OWNER = "c24787a75cb363e4bc33871cff23a407c2dc0db631898c35b4604a833bfab5f8"  # sha256("org-1")
TOKEN = "65dcf16ea3dfa49069628089eb4a75483070f5584b2a21ee64912b5f621f12da"  # sha256("tok-1")
UNUSED_PORT = "redis://127.0.0.1:1/0"  # nothing connects: only the keys are built
HELPERS = {"digest", "owner_key"}  # what the families are built with, not families of their own
DOC = Path(__file__).resolve().parent.parent / "docs" / "operating.md"


def families() -> dict[str, object]:
    """Every key family state/keys.py defines: its builders and its constant keys, by name."""
    return {name: value for name, value in vars(keys).items()
            if not name.startswith("_") and name not in HELPERS and
            ((inspect.isfunction(value) and value.__module__ == keys.__name__) or (name.isupper() and
                                                                                   isinstance(value, str)))}


def documented_form(family: object) -> str:
    """The family's key with each argument shown as <its name> and each digest as <sha256>, as the doc writes it."""
    if isinstance(family, str):
        return family
    built = family(*(f"<{name}>" for name in inspect.signature(family).parameters))
    return re.sub(r"[0-9a-f]{64}", "<sha256>", built)


def test_the_owner_and_token_digests_are_sha256_hex():
    assert keys.owner_key("org-1") == keys.digest("org-1") == OWNER
    assert keys.digest("tok-1") == keys.digest(b"tok-1") == TOKEN


def test_the_session_keys_keep_their_exact_form():
    ann = Owner("org-1", "Acme Inc", "ann@acme.test")
    wanted = SessionRequest(expires_in=1800, categories=("hris", "ats"), label="EU")
    assert reuse_key(ann, Decision(Action.CREATE, "hibob"), wanted) == \
        "reuse:f2a7d7d0280999f78efbd92ceed226424a9dfa5a0d75db0120fc3d5a0889f0cb"
    assert keys.idempotency("org-1", "/stackone_connect_sessions", "k-1") == \
        "idempotency:49a8cc735a19d329ecd37afff874e4a79a640519c176f87de156d8429f8bf0f3"
    assert fingerprint("/stackone_connect_sessions", {"provider": "hibob", "label": "é"}) == \
        "7df7d1eb205fceeeecae7177808073e41e31e08b610329644a28cb0a909ced54"
    assert [keys.caps_lock("org-1"), keys.reservations("org-1"), keys.session_expiry("tok-1"),
            keys.session_outcome("tok-1"), keys.session_asking("tok-1"), keys.account_created("org-1", "hibob")] == \
        [f"caps-lock:{OWNER}", f"reservations:{OWNER}", f"session-expiry:{TOKEN}", f"session-outcome:{TOKEN}",
         f"session-asking:{TOKEN}", f"account-created:{OWNER}:hibob"]


def test_the_cache_pause_and_marker_keys_keep_their_exact_form():
    assert [keys.accounts_generation("org-1"), keys.accounts("org-1", "g1", None), keys.accounts("org-1", "0", "hibob"),
            keys.CONNECTORS, keys.CONNECTORS_REFRESHING, keys.STACKONE_PAUSE, keys.ENDPOINT_PAUSED, keys.WRONG_URL,
            keys.REDIS_DUTIES_CHECKED, keys.LEDGER_IMPORTED] == \
        [f"accounts-gen:{OWNER}", f"accounts:{OWNER}:g1:*", f"accounts:{OWNER}:0:hibob", "connectors:active",
         "connectors:refreshing", "stackone-pause", "events-endpoint-paused", "stackone:wrong-url",
         "redis-duties-checked", "ledger-imported-from-files"]


def test_the_webhook_replay_mark_is_a_digest_of_the_signed_bytes():
    assert keys.webhook_replay(b'{"event":"account.created"}') == \
        "webhook:55fa7066bea75367cee33fac6d794e465c199c422818a3547f09ba6f69efc8e9"


def test_an_events_id_is_the_same_for_the_same_change():
    # The webhook-id a receiver deduplicates on, and the ledger's member: a change made again keeps its id.
    assert "evt_" + keys.digest("acc-1", "v1-r0", "connection.broken")[:32] == "evt_1e9052d23f7da9b642531eb8c4cca4b6"


def test_the_redis_structures_keep_their_hash_tags():
    ledger = RedisLedger(RedisState(UNUSED_PORT, prefix="svc", timeout=0.1))
    assert [ledger._key("rec", "acc-1"), ledger._owner_set({"owner_id": "org-1"}), ledger._owner_set(None),
            ledger._key("known"), ledger._key("due", "new"), ledger._key("ev", "evt_1")] == \
        ["svc:{conn}:rec:acc-1", f"svc:{{conn}}:owner:{OWNER}", "svc:{conn}:owner:-", "svc:{conn}:known",
         "svc:{conn}:due:new", "svc:{conn}:ev:evt_1"]
    assert [keys.budget("svc", 29000000), keys.budget("svc:", "pause"), keys.limits_prefix("svc")] == \
        ["svc:{stackone-budget}:29000000", "svc:{stackone-budget}:pause", "svc:limits"]
    assert [keys.links("svc:", "link", "d1"), keys.links("svc", "remind")] == \
        ["svc:{links}:link:d1", "svc:{links}:remind"]


def test_the_keys_from_before_the_ledger_are_still_found():
    assert [keys.OLD_OWNERS, keys.OLD_OUTBOX_INDEX, keys.old_outbox("evt_1"), keys.old_owner_accounts("org-1"),
            keys.old_account("acc-1"), keys.old_file("svc-key")] == \
        ["conn-owners", "outbox-index", "outbox:evt_1", f"conn-owner:{OWNER}",
         "conn:cf9df9b99fc0a24be13747e9ba144c730c889af804bc1abbb1be8918e5cd30e2",
         "7bc8c56ce1e0724188cfbbecf3204435e7cb639e326da6f0ff9cd9b7dcf11520.json"]


def test_the_operators_table_lists_every_key_family_as_it_is_built():
    section = DOC.read_text().split("## The shared state's keys", 1)[1].split("\n## ", 1)[0]
    rows = dict(re.findall(r"^\| `(\w+)` \| `([^`]+)` \|", section, flags=re.MULTILINE))
    assert rows == {name: documented_form(family) for name, family in families().items()}
