"""Upgrading from the shared state of old (JSON values per key: one file per key on a host, or Redis keys in a fleet,
before the ledger): its known accounts and queued events are imported into the ledger once, at start. Idempotent:
every worker may try at once; a record is written only where the ledger has none, an event only where it is not
queued; a broken account's reminder is due as it would have been."""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

from connections.ledger import Ledger
from state import keys

log = logging.getLogger(__name__)


def _stored(folder: str, key: str) -> Any | None:
    # The folder's layout: a file per key (keys.old_file) holding {"value": ..., "expires": epoch seconds or null}.
    path = os.path.join(folder, keys.old_file(key))
    try:
        with open(path, "rb") as handle:
            entry = json.loads(handle.read())
    except (OSError, ValueError):
        return None
    if not isinstance(entry, dict):
        return None
    expires = entry.get("expires")
    if expires is not None and (not isinstance(expires, (int, float)) or expires <= time.time()):
        return None
    return entry.get("value")


def import_folder(folder: str, ledger: Ledger, reminder_seconds: float | None = None) -> dict[str, int]:
    """Import the old folder's accounts and queued events (once; a marker file says it is done)."""
    marker = os.path.join(folder, keys.LEDGER_IMPORTED)  # a file: the import ran to its end
    if os.path.exists(marker):
        return {}
    counts = import_old(lambda key: _stored(folder, key), ledger, reminder_seconds)
    with open(marker, "w") as done:
        done.write(json.dumps(counts))
    return counts


def import_redis(state, ledger: Ledger, reminder_seconds: float | None = None) -> dict[str, int]:
    """Import the fleet's old Redis keys (once: the first worker to take a marker key does it)."""
    # The old keys lived 30 days at most, as does the marker.
    if not state.add(keys.LEDGER_IMPORTED, 1, ttl=30 * 24 * 3600):
        return {}
    try:
        return import_old(state.get, ledger, reminder_seconds)
    except Exception:
        state.delete(keys.LEDGER_IMPORTED)  # tried again at the next start
        raise


def import_old(get, ledger: Ledger, reminder_seconds: float | None) -> dict[str, int]:
    """Import what `get(key)` reads of the old keys into the ledger; returns the counts."""
    counts = {"accounts": 0, "events": 0}
    owners = get(keys.OLD_OWNERS)
    queued: dict[str, list[dict[str, Any]]] = {}
    for event_id in get(keys.OLD_OUTBOX_INDEX) or []:
        entry = get(keys.old_outbox(event_id))
        if isinstance(entry, dict) and isinstance(entry.get("event"), dict):
            event = entry["event"]
            queued.setdefault(str((event.get("data") or {}).get("accountId")), []).append(event)
    for owner in owners if isinstance(owners, list) else []:
        for account_id in get(keys.old_owner_accounts(str(owner))) or []:
            record = get(keys.old_account(str(account_id)))
            if not isinstance(record, dict):
                continue
            events = queued.pop(str(account_id), [])
            _, revision = ledger.read(str(account_id))
            if revision == 0 and ledger.write(str(account_id), 0, record, events=events, now=time.time(),
                                              reminder_at=_reminder_at(record, reminder_seconds)):
                counts["accounts"] += 1
                counts["events"] += len(events)
    if counts["accounts"] or queued:
        log.info("imported %d accounts and %d queued events from the old state", counts["accounts"],
                 counts["events"])
    if queued:
        log.warning("%d queued events of accounts the old state did not know were not imported",
                    sum(len(v) for v in queued.values()))
    return counts


def _reminder_at(record: dict[str, Any], reminder_seconds: float | None) -> float | None:
    # As the monitor sets it: RECONNECT_REMINDER after the last word, while broken and events are sent.
    if reminder_seconds is None or record.get("deleted") or record.get("broken_since") is None:
        return None
    return (record.get("reminded_at") or record["broken_since"]) + reminder_seconds
