"""Upgrading a host from the state folder (one JSON file per key, before the SQLite ledger): its known accounts and
queued events are imported into the ledger once, at start. Idempotent: every worker may try at once; a record is
written only where the ledger has none, an event only where it is not queued."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from typing import Any

from connections.ledger import Ledger
from stackone.directory import owner_key

log = logging.getLogger(__name__)

DONE = "ledger-imported-from-files"  # a marker file in STATE_DIR: the import ran to its end


def _stored(folder: str, key: str) -> Any | None:
    # The folder's layout: sha256(key).json holding {"value": ..., "expires": epoch seconds or null}.
    path = os.path.join(folder, hashlib.sha256(key.encode()).hexdigest() + ".json")
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


def import_folder(folder: str, ledger: Ledger) -> dict[str, int]:
    """Import the old folder's accounts and queued events (once; a marker file says it is done)."""
    marker = os.path.join(folder, DONE)
    if os.path.exists(marker):
        return {}
    counts = {"accounts": 0, "events": 0}
    owners = _stored(folder, "conn-owners")
    queued: dict[str, list[dict[str, Any]]] = {}
    for event_id in _stored(folder, "outbox-index") or []:
        entry = _stored(folder, f"outbox:{event_id}")
        if isinstance(entry, dict) and isinstance(entry.get("event"), dict):
            event = entry["event"]
            queued.setdefault(str((event.get("data") or {}).get("accountId")), []).append(event)
    for owner in owners if isinstance(owners, list) else []:
        for account_id in _stored(folder, f"conn-owner:{owner_key(str(owner))}") or []:
            record = _stored(folder, "conn:" + hashlib.sha256(str(account_id).encode()).hexdigest())
            if not isinstance(record, dict):
                continue
            events = queued.pop(str(account_id), [])
            _, revision = ledger.read(str(account_id))
            if revision == 0 and ledger.write(str(account_id), 0, record, events=events, now=time.time()):
                counts["accounts"] += 1
                counts["events"] += len(events)
    if counts["accounts"] or queued:
        log.info("imported %d accounts and %d queued events from the state folder", counts["accounts"],
                 counts["events"])
    if queued:
        log.warning("%d queued events of accounts the state folder did not know were not imported",
                    sum(len(v) for v in queued.values()))
    with open(marker, "w") as done:
        done.write(json.dumps(counts))
    return counts
