"""Refuse any attempt by the client to name the account owner, under any spelling."""

from __future__ import annotations

import re
from collections.abc import Iterable

from errors import OwnerFieldsForbidden

_OWNER_KEYS = {"originownerid", "originownername", "ownerid", "ownername"}


def _normalise(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def refuse_owner_fields(*key_sets: Iterable[str]) -> None:
    """Raise OwnerFieldsForbidden if any key (body or query string) names the owner."""
    offered = sorted({key for keys in key_sets for key in keys if _normalise(key) in _OWNER_KEYS})
    if offered:
        raise OwnerFieldsForbidden(
            "The account owner comes from your login and cannot be set in the request; remove "
            + ", ".join(repr(k[:64]) for k in offered),
            fields=[k[:64] for k in offered],
        )
