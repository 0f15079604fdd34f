"""Every shared-state key keeps its exact bytes across versions: data a previous version stored must still be found
after an upgrade (docs/operating.md, "The shared state's keys"). Each family is pinned for one sample input."""

from __future__ import annotations

from connections.ledger_redis import RedisLedger
from identity.owner import Owner, owner_key
from policy import Action, Decision, SessionRequest
from sessions import service, status
from sessions.idempotency import fingerprint, record_key
from sessions.reservations import session_digest
from sessions.reuse import reuse_key
from stackone.budget import Budget, Rule
from state.redis_state import RedisState
from webhooks.events import delivery_key

OWNER = "c24787a75cb363e4bc33871cff23a407c2dc0db631898c35b4604a833bfab5f8"  # sha256("org-1")
TOKEN = "65dcf16ea3dfa49069628089eb4a75483070f5584b2a21ee64912b5f621f12da"  # sha256("tok-1")
UNUSED_PORT = "redis://127.0.0.1:1/0"  # nothing connects: only the keys are built


def test_the_owner_and_token_digests_are_sha256_hex():
    assert owner_key("org-1") == OWNER
    assert session_digest("tok-1") == status._digest("tok-1") == TOKEN


def test_the_session_keys_keep_their_exact_form():
    ann = Owner("org-1", "Acme Inc", "ann@acme.test")
    wanted = SessionRequest(expires_in=1800, categories=("hris", "ats"), label="EU")
    assert reuse_key(ann, Decision(Action.CREATE, "hibob"), wanted) == \
        "reuse:f2a7d7d0280999f78efbd92ceed226424a9dfa5a0d75db0120fc3d5a0889f0cb"
    assert record_key(OWNER, "/stackone_connect_sessions", "k-1") == \
        "idempotency:49a8cc735a19d329ecd37afff874e4a79a640519c176f87de156d8429f8bf0f3"
    assert fingerprint("/stackone_connect_sessions", {"provider": "hibob", "label": "é"}) == \
        "7df7d1eb205fceeeecae7177808073e41e31e08b610329644a28cb0a909ced54"
    assert service._session_key("tok-1") == f"session-expiry:{TOKEN}"
    assert status._created_key("org-1", "hibob") == f"account-created:{OWNER}:hibob"


def test_the_webhook_replay_mark_is_a_digest_of_the_signed_bytes():
    assert delivery_key(b'{"event":"account.created"}') == \
        "webhook:55fa7066bea75367cee33fac6d794e465c199c422818a3547f09ba6f69efc8e9"


def test_the_redis_structures_keep_their_hash_tags():
    state = RedisState(UNUSED_PORT, prefix="svc", timeout=0.1)
    ledger = RedisLedger(state)
    assert [ledger._key("rec", "acc-1"), ledger._owner_set({"owner_id": "org-1"}), ledger._owner_set(None),
            ledger._key("known"), ledger._key("due", "new"), ledger._key("ev", "evt_1")] == \
        ["svc:{conn}:rec:acc-1", f"svc:{{conn}}:owner:{OWNER}", "svc:{conn}:owner:-", "svc:{conn}:known",
         "svc:{conn}:due:new", "svc:{conn}:ev:evt_1"]
    budget = Budget(Rule(10, 60.0, 1), state, processes=1, redis_url=UNUSED_PORT, prefix="svc")
    assert (budget._keys, budget._pause_key) == ("svc:{stackone-budget}:", "svc:{stackone-budget}:pause")
