"""The Auth Link stores held to their model: a property test of every operation (hypothesis) on a real redis-server
and on SQLite, then what each guarantee looks like to a caller: owner scoping, one completion and one reminder under
concurrent callers, refused clicks, and a URL secret that is stored nowhere."""

from __future__ import annotations

import threading
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from identity.owner import Owner
from links import model
from links.model import COMPLETED, EXPIRED, HORIZON, LIVE, WITHDRAWN, Link, new_link, secret_digest
from links.store import Change, MemoryLinkStore
from links.store_redis import RedisLinkStore
from links.store_sqlite import SqliteLinkStore
from policy.types import SessionRequest
from state.redis_state import RedisState

DAY = 86400.0
OWNERS = ["org-a", "org-b"]


class Backends:
    """Makes a fresh store of each kind."""

    def __init__(self, redis_url: str, folder: Path) -> None:
        self.redis_url, self.folder, self.made = redis_url, folder, 0

    def fresh(self, kind: str):
        """An empty store of this kind."""
        self.made += 1
        return MemoryLinkStore() if kind == "memory" else self.again(kind)

    def again(self, kind: str):
        """Another store on the same data as the last one made (another worker, another host)."""
        if kind == "sqlite":
            return SqliteLinkStore(str(self.folder / f"sqlite-{self.made}"))
        return RedisLinkStore(RedisState(self.redis_url, prefix=f"links{self.made}", timeout=2))


@pytest.fixture(scope="module")
def backends(tmp_path_factory):
    """Stores on one real redis-server for the module (each with a key prefix of its own) and on SQLite folders."""
    from support.redis_server import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("links-redis"))
    server.start()
    yield Backends(server.url, tmp_path_factory.mktemp("links-sqlite"))
    server.stop()


def link(n: int, owner: str = "org-a", *, created: float = 0.0, lifetime: float = 5 * DAY) -> Link:
    """A link with a known handle and secret (`secret-<n>`), as new_link makes them but reproducible."""
    return Link(handle=f"lnk_{n:012d}", digest=secret_digest(f"secret-{n}"), owner_id=owner, owner_name=owner.upper(),
                origin_username=f"hr-{n}@example.test", created_by="admin@example.test", provider="hibob",
                categories=("hris",), label=None, account_id=None, multiple=False, created=created,
                expires=created + lifetime)


LINKS = 2  # links 0 and 1, and one never created
creates = st.tuples(st.just("create"), st.integers(0, LINKS - 1), st.sampled_from(OWNERS), st.integers(0, 4),
                    st.sampled_from([0.5 * DAY, 1.5 * DAY, 5 * DAY, 5 * DAY]))
days = st.integers(0, 6)
whose = st.sampled_from(["own", "own", "own", "other"])  # the link's owner asks, or the other one
operations = st.one_of(
    creates,
    st.tuples(st.just("click"), st.integers(0, LINKS), days),
    st.tuples(st.just("complete"), whose, st.integers(0, LINKS), days),
    st.tuples(st.just("withdraw"), whose, st.integers(0, LINKS), days),
    st.tuples(st.just("claim"), st.integers(0, 8), st.sampled_from([0.25 * DAY, 2 * DAY]), st.integers(0, 3)),
    st.tuples(st.just("finish"), st.integers(0, 5)),
)
# Links made first, then anything: most examples then act on links that exist.
histories = st.builds(lambda made, then: made + then, st.lists(creates, min_size=1, max_size=3),
                      st.lists(operations, min_size=3, max_size=30))


def run(store, ops) -> list:
    """Apply the operations (times in days) and return everything a caller could observe, step by step."""
    seen, reminders, owners = [], [], {}
    for op in ops:
        if op[0] == "create":
            _, n, owner, day, lifetime = op
            seen.append(store.create(link(n, owner, created=day * DAY, lifetime=lifetime), day * DAY))
            owners.setdefault(n, owner)
        elif op[0] == "click":
            seen.append(store.click(secret_digest(f"secret-{op[1]}"), op[2] * DAY))
        elif op[0] in ("complete", "withdraw"):
            _, whose_, n, day = op
            owner = owners.get(n, OWNERS[0]) if whose_ == "own" else OWNERS[OWNERS.index(owners.get(n, OWNERS[0])) - 1]
            args = (f"acc-{n}",) if op[0] == "complete" else ()
            seen.append(getattr(store, op[0])(owner, f"lnk_{n:012d}", *args, day * DAY))
        elif op[0] == "claim":
            taken = store.claim_reminders(op[1] * DAY, op[2], op[3])
            reminders += sorted(taken, key=lambda r: r.link.digest)  # the list's order is unspecified
            seen.append(sorted((r.link.handle, r.until) for r in taken))
        elif op[0] == "finish" and reminders:
            seen.append(store.finish_reminder(reminders[op[1] % len(reminders)]))
        seen.append(observed(store, 9 * DAY))
    return seen


def observed(store, now: float) -> tuple:
    found = tuple((store.by_secret(secret_digest(f"secret-{n}"), now),
                   *(store.find(owner, f"lnk_{n:012d}", now) for owner in OWNERS)) for n in range(LINKS))
    listed = tuple((tuple(store.owner_links(owner, now, limit=2, offset=1)), tuple(store.live_links(owner, 3 * DAY)))
                   for owner in OWNERS)
    return found, listed


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=histories)
def test_a_backend_does_what_the_model_does(backends, kind, ops):
    assert run(backends.fresh(kind), ops) == run(MemoryLinkStore(), ops)


def test_a_new_link_carries_a_secret_only_its_digest_names():
    owner = Owner("org-a", "Org A", "admin@example.test")
    made, secret = new_link(owner, SessionRequest(expires_in=432000, provider="hibob", categories=("hris",)), 100.0)
    assert model.is_secret(secret) and model.is_handle(made.handle) and len(secret) * 6 >= 128
    assert made.digest == secret_digest(secret) and secret not in repr(made)
    assert (made.origin_username, made.created_by, made.expires) == ("admin@example.test", "admin@example.test",
                                                                      432100.0)
    assert made.session_request(3600) == SessionRequest(expires_in=3600, provider="hibob", categories=("hris",),
                                                        origin_username="admin@example.test", kind="link")
    with pytest.raises(ValueError):
        new_link(owner, SessionRequest(expires_in=7 * 86400 + 1), 100.0)


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_another_owners_handle_is_as_unknown_as_no_link_at_all(backends, kind):
    store = backends.fresh(kind)
    assert store.create(link(1, "org-a"), 0.0) and store.create(link(2, "org-b", created=1.0), 1.0)
    assert store.find("org-b", link(1).handle, 2.0) is None and store.find("org-a", link(1).handle, 2.0) == link(1)
    assert store.withdraw("org-b", link(1).handle, 2.0) == Change(None) == store.withdraw("org-b", "lnk_nope", 2.0)
    assert store.complete("org-b", link(1).handle, "acc-x", 2.0) == Change(None)
    assert [x.handle for x in store.owner_links("org-a", 2.0)] == [link(1).handle]
    assert store.by_secret(secret_digest("secret-1"), 2.0).status(2.0) == LIVE  # untouched by org-b's attempts
    assert not store.create(replace(link(3), handle=link(1).handle), 3.0)  # a handle names one link only


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
@pytest.mark.parametrize("ending", [WITHDRAWN, EXPIRED, COMPLETED])
def test_a_link_that_has_ended_refuses_clicks_and_says_why(backends, kind, ending):
    store = backends.fresh(kind)
    store.create(link(1), 0.0)
    digest = secret_digest("secret-1")
    assert store.click(digest, DAY).applied  # live: counted
    now = 6 * DAY if ending == EXPIRED else 2 * DAY
    if ending == WITHDRAWN:
        assert store.withdraw("org-a", link(1).handle, 2 * DAY).applied
    elif ending == COMPLETED:
        assert store.complete("org-a", link(1).handle, "acc-1", 2 * DAY).applied
    refused = store.click(digest, now)
    assert not refused.applied and refused.link.status(now) == ending
    assert (refused.link.clicks, refused.link.first_click, refused.link.last_click) == (1, DAY, DAY)
    assert store.click(secret_digest("secret-unknown"), now) == Change(None)
    assert store.live_links("org-a", now) == []  # an ended link frees its cap's place at once


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_a_link_is_forgotten_once_past_its_keeping(backends, kind):
    store = backends.fresh(kind)
    store.create(link(1), 0.0)
    assert store.by_secret(secret_digest("secret-1"), HORIZON - 1) is not None
    assert store.by_secret(secret_digest("secret-1"), HORIZON) is None
    assert store.owner_links("org-a", HORIZON) == [] and store.find("org-a", link(1).handle, HORIZON) is None


def _at_once(callers: int, call) -> list:
    """Run call(i) in `callers` threads released together; their answers."""
    start, answers = threading.Barrier(callers), [None] * callers

    def one(i: int) -> None:
        start.wait()
        answers[i] = call(i)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(callers)]
    [t.start() for t in threads]
    [t.join(30) for t in threads]
    return answers


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_two_completions_at_once_complete_a_link_once(backends, kind):
    backends.fresh(kind).create(link(1), 0.0)
    stores = [backends.again(kind) for _ in range(2)]
    stores[0].click(secret_digest("secret-1"), DAY)
    answers = _at_once(2, lambda i: stores[i].complete("org-a", link(1).handle, f"acc-{i}", 2 * DAY))
    assert sorted(a.applied for a in answers) == [False, True]
    winner = next(a for a in answers if a.applied).link.completed_account
    assert stores[1].by_secret(secret_digest("secret-1"), 3 * DAY).completed_account == winner


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_two_claimers_at_once_take_each_reminder_once(backends, kind):
    first = backends.fresh(kind)
    for n in range(30):
        first.create(link(n, created=float(n)), float(n))
    stores = [backends.again(kind) for _ in range(2)]

    def drain(i: int) -> list[str]:
        taken = []
        while batch := stores[i].claim_reminders(4.5 * DAY, 600.0, 4):
            for reminder in batch:
                taken.append(reminder.link.handle)
                assert stores[i].finish_reminder(reminder)
        return taken

    answers = _at_once(2, drain)
    assert sorted(answers[0] + answers[1]) == sorted(link(n).handle for n in range(30))  # each once, none lost
    assert first.claim_reminders(4.9 * DAY, 600.0, 100) == []  # sent: never again


@pytest.mark.parametrize("kind", ["memory", "sqlite", "redis"])
def test_a_reminder_is_due_a_day_before_the_end_and_goes_with_a_withdrawal(backends, kind):
    store = backends.fresh(kind)
    store.create(link(1), 0.0)
    store.create(link(2, lifetime=DAY), 0.0)  # a link of a day gets no reminder
    store.create(link(3), 0.0)
    assert store.claim_reminders(4 * DAY - 1, 60.0, 10) == []
    store.withdraw("org-a", link(3).handle, DAY)
    taken = store.claim_reminders(4 * DAY, 60.0, 10)
    assert [r.link.handle for r in taken] == [link(1).handle]
    assert store.claim_reminders(4 * DAY + 59, 60.0, 10) == []  # held by its claimer
    again = store.claim_reminders(4 * DAY + 60, 60.0, 10)  # its claimer died: the next one takes it
    assert [r.link.handle for r in again] == [link(1).handle]
    assert not store.finish_reminder(taken[0]) and store.finish_reminder(again[0])


def test_reminders_nobody_claims_do_not_pile_up_in_redis(backends):
    # Without APP_WEBHOOK_URL no tick claims reminders: a link's own create drops those of links already ended.
    import redis

    store = backends.fresh("redis")
    store.create(link(1, lifetime=2 * DAY), 0.0)  # its reminder is due at day 1, the link ends at day 2
    store.create(link(2, created=3 * DAY), 3 * DAY)
    reminders = redis.Redis.from_url(backends.redis_url).zrange(store._key("remind"), 0, -1)
    assert reminders == [link(2, created=3 * DAY).digest.encode()]


def _stored_bytes_redis(url: str, prefix: str) -> bytes:
    import redis

    client = redis.Redis.from_url(url)
    found = b""
    for key in client.scan_iter(match=f"{prefix}:*"):
        kind = client.type(key)
        values = {b"hash": lambda k: [b for pair in client.hgetall(k).items() for b in pair],
                  b"string": lambda k: [client.get(k)], b"zset": lambda k: client.zrange(k, 0, -1)}[kind](key)
        found += key + b"".join(values)
    return found


@pytest.mark.parametrize("kind", ["sqlite", "redis"])
def test_the_url_secret_is_stored_nowhere(backends, kind, tmp_path):
    store = backends.fresh(kind)
    made, secret = new_link(Owner("org-a", "Org A", "admin@example.test"),
                            SessionRequest(expires_in=432000, provider="hibob"), 100.0)
    assert store.create(made, 100.0)
    assert store.click(secret_digest(secret), 200.0).applied
    assert store.withdraw("org-a", made.handle, 300.0).applied
    if kind == "redis":
        stored = _stored_bytes_redis(backends.redis_url, f"links{backends.made}")
    else:
        folder = backends.folder / f"sqlite-{backends.made}"
        stored = b"".join(p.read_bytes() for p in folder.iterdir())  # the database, its WAL and shared memory
    assert made.digest.encode() in stored  # what is looked for is there: the scan reads what was written
    assert secret.encode() not in stored


def test_an_unreachable_redis_is_a_state_unavailable_not_a_redis_error():
    import socket

    from errors import StateUnavailable

    with socket.create_server(("127.0.0.1", 0)) as probe:
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    store = RedisLinkStore(RedisState(f"redis://127.0.0.1:{port}/0", prefix="gone", timeout=0.5))
    with pytest.raises(StateUnavailable):
        store.click(secret_digest("secret-1"), 0.0)
    with pytest.raises(StateUnavailable):  # a pipeline too
        store.owner_links("org-a", 0.0)


def test_the_store_follows_the_shared_state(backends, tmp_path):
    from links.store import open_link_store
    from state import open_sqlite_state

    folder = str(tmp_path / "state")
    assert isinstance(open_link_store(open_sqlite_state(folder), folder), SqliteLinkStore)
    assert isinstance(open_link_store(RedisState(backends.redis_url, prefix="p", timeout=1), folder), RedisLinkStore)
