"""ACCOUNT_LIMITS as a value: the most accounts an owner may have, in total and per provider (policy/caps.py applies
them; config/sessions.py parses them)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

TOTAL = "total"


@dataclass(frozen=True)
class AccountLimits:
    """The caps: `total` (None: none) and one per provider."""

    total: int | None = None
    per_provider: Mapping[str, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.total is not None or bool(self.per_provider)
