"""Filling the connection ledger for bench/scale.py: many owners' account records, written in bulk through the
ledger's own `write`."""

from __future__ import annotations

import copy
import time
from contextlib import contextmanager, nullcontext

BULK = 10_000  # ledger writes per pipeline round trip (Redis) or per transaction (SQLite) while filling


def account_record(owner: int, now: float) -> dict:
    """An active account's record as the service keeps it once its connection.created was delivered."""
    from connections.changes import Observation, as_record

    seen = Observation("-", f"org-{owner}", status="active", provider="hibob", owner_name=f"Org {owner}",
                       username=f"admin@org-{owner}.test")
    return as_record(seen, applied=(now, time.time_ns()), version=1, broken_since=None, reminded_at=None)


@contextmanager
def bulk_writer(ledger):
    """The ledger's own `write`, batched: its Lua script through a pipeline (Redis), or its statements inside one
    transaction per BULK writes (SQLite). What is written is exactly what `write` writes."""
    from connections.ledger_redis import RedisLedger

    writer = copy.copy(ledger)
    if isinstance(ledger, RedisLedger):
        pipe = ledger._redis.pipeline(transaction=False)
        writer._run = lambda call, *args, **kwargs: call(*args, client=pipe, **kwargs)
        yield writer, pipe.execute
        pipe.execute()
        return
    database = ledger._database
    holder = {}

    def commit():
        if "block" in holder:
            holder.pop("block").__exit__(None, None, None)
        holder["block"] = database.transaction()
        conn = holder["block"].__enter__()
        writer._transaction = lambda immediate=True: nullcontext(conn)

    commit()
    yield writer, commit
    holder.pop("block").__exit__(None, None, None)


def fill(ledger, owners: int, start: int = 0) -> float:
    """Write owners start..owners-1, two accounts each, in bulk; the seconds it took."""
    started, now = time.monotonic(), time.time()
    with bulk_writer(ledger) as (writer, flush):
        for owner in range(start, owners):
            record = account_record(owner, now)
            for n in (1, 2):
                writer.write(f"acc-{owner}-{n}", 0, record, now=now)
            if owner % (BULK // 2) == 0:
                flush()
    elapsed = time.monotonic() - started
    assert sum(1 for _ in ledger.known_accounts()) == 2 * owners  # every write landed
    return elapsed
