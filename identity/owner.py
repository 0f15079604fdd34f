"""The account owner value: the customer organisation a StackOne account belongs to."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from errors import Unauthorized

log = logging.getLogger("identity")


@dataclass(frozen=True)
class Owner:
    """The owner StackOne records as origin_owner_id / origin_owner_name, plus the acting user."""

    id: str
    name: str
    username: str | None = None


def _text(value: Any) -> str | None:
    # Organisation ids are often integers in the customer's own database; accept those, nothing else.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str) and value.strip() and _is_unicode(value):
        return value.strip()
    return None


def _is_unicode(text: str) -> bool:
    # A signed claim can still hold "\ud800" (valid JSON, not valid Unicode), which no hash, log or
    # StackOne call can encode: such a login names no owner.
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def owner_from_claims(claims: Mapping[str, Any], id_field: str, name_field: str, username_field: str,
                      *, source: str = "claim") -> Owner:
    """Pick the owner out of verified claims (a JWT payload or a session dict); 401 naming what is missing."""
    owner_id = _text(claims.get(id_field))
    owner_name = _text(claims.get(name_field))
    missing = [field for field, value in ((id_field, owner_id), (name_field, owner_name)) if value is None]
    if missing:
        names = " and ".join(f"'{field}'" for field in missing)
        log.info("login refused: no usable %s %s", source, names)
        raise Unauthorized(f"The login does not name the organisation that owns the account: it has no usable "
                           f"{names} {source}{'s' if len(missing) > 1 else ''} (see OWNER_ID_FIELD / "
                           "OWNER_NAME_FIELD)")
    raw_username = claims.get(username_field)
    username = _text(raw_username) if isinstance(raw_username, str) else None
    return Owner(id=owner_id, name=owner_name, username=username)
