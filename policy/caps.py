"""Account caps (ACCOUNT_LIMITS): the most accounts an owner may have, in total and per provider (plain Python).

A create or multiple that would pass a cap is refused before StackOne is called; an update (a reconnect) never is.
Archived accounts do not count. Sessions minted but not yet completed do (`pending`, each a reservation that the
account it makes consumes), so ten tabs at N-1 cannot all pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain.accounts import Account
from domain.limits import TOTAL, AccountLimits
from domain.times import iso_utc
from errors import AccountLimitReached
from policy.types import Action, Decision


@dataclass(frozen=True)
class Reservation:
    """A session minted for a new account and not yet completed: it counts until its account exists or it expires."""

    provider: str | None  # None: a category-only session, which may make an account of any provider
    at: float  # when it was minted (epoch seconds)
    until: float  # when the session expires
    # The owner's accounts when it was minted: none of them can be the account it makes. (Ids, not times: StackOne's
    # clock and ours need not agree.)
    seen: frozenset[str] = frozenset()
    holder: str | None = None  # who it was minted for (origin_username): a refusal names them
    kind: str = "session"  # "session" or "link"
    session: str | None = None  # a digest of its token: the page holding it releases it by the token
    # The holder's decision key, and the session sealed to that key: the holder asking again gets it back.
    reuse: str | None = None
    sealed: str | None = None
    # The handle of a live Auth Link of ours holding this place (read from the link store, never stored here): it
    # holds it until it ends, and its owner may withdraw it.
    link: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON for the shared state."""
        return {"provider": self.provider, "at": self.at, "until": self.until, "seen": sorted(self.seen),
                "holder": self.holder, "kind": self.kind, "session": self.session, "reuse": self.reuse,
                "sealed": self.sealed}

    @classmethod
    def from_dict(cls, data: Any) -> Reservation | None:
        """Read one back; None when unreadable."""
        try:
            return cls(data.get("provider"), float(data["at"]), float(data["until"]),
                       frozenset(str(i) for i in data.get("seen") or ()), _text(data.get("holder")),
                       "link" if data.get("kind") == "link" else "session", _text(data.get("session")),
                       _text(data.get("reuse")), _text(data.get("sealed")))
        except (AttributeError, KeyError, TypeError, ValueError):
            return None

    def describe(self) -> str:
        """One pending session in a sentence: what, for whom, until when."""
        what = "a link" if self.kind == "link" else "a session"
        until = datetime.fromtimestamp(self.until, UTC).strftime("%Y-%m-%d %H:%M UTC")
        return f"{what} for {self.provider or 'any provider'} held by {self.holder or 'an unnamed user'} until {until}"

    def as_json(self) -> dict[str, Any]:
        """What a refusal tells of it (never the token)."""
        told = {"provider": self.provider, "username": self.holder, "kind": self.kind, "expiresAt": iso_utc(self.until)}
        return told | {"linkId": self.link} if self.link else told


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def still_pending(reservations: Iterable[Reservation], accounts: Iterable[Account], now: float
                  ) -> list[Reservation]:
    """The reservations not expired and not consumed: each account a reservation had not seen (of its provider, or
    any for a category-only one) consumes the oldest such reservation, once."""
    live = sorted((r for r in reservations if r.until > now), key=lambda r: r.at)
    for account in accounts:
        for reservation in live:
            if account.id not in reservation.seen and reservation.provider in (None, account.provider):
                live.remove(reservation)
                break
    return live


def check_caps(limits: AccountLimits, decision: Decision, accounts: list[Account],
               pending: list[Reservation]) -> None:
    """Raise AccountLimitReached when one more account from this decision would pass a cap; else nothing.

    `accounts` are the owner's accounts (any status; archived ones are set aside here), `pending` its reservations.
    """
    if not limits or decision.action is Action.UPDATE:
        return
    counted = [a for a in accounts if not a.archived]
    caps: list[tuple[str, int, list[Account], list[Reservation]]] = []
    if decision.provider and decision.provider in limits.per_provider:
        caps.append((decision.provider, limits.per_provider[decision.provider],
                     [a for a in counted if a.provider == decision.provider],
                     [r for r in pending if r.provider == decision.provider]))
    if limits.total is not None:
        caps.append((TOTAL, limits.total, counted, pending))
    for name, most, held, reserved in caps:
        if len(held) + len(reserved) + 1 > most:
            where = "in total" if name == TOTAL else f"for {name}"
            described = f" ({'; '.join(r.describe() for r in reserved)})" if reserved else ""
            raise AccountLimitReached(
                f"Your organisation may have at most {most} account(s) {where}: {len(held)} connected and "
                f"{len(reserved)} being connected{described}; {how_to_free(held, reserved)}",
                limit={"name": name, "max": most},
                accounts=[{"id": a.id, "provider": a.provider, "label": a.label} for a in held],
                pendingSessions=len(reserved), pending=[r.as_json() for r in reserved])


def how_to_free(held: list[Account], reserved: list[Reservation]) -> str:
    """What the refused user can do about it, in the words of what holds the places."""
    ways = []
    if held:
        ways.append("disconnect an account you no longer need, or reconnect an existing one instead (a reconnect is "
                    "never capped)")
    if any(r.kind == "session" for r in reserved):
        ways.append("a session being connected frees its place when its hub is closed without connecting, or when "
                    "it ends")
    if any(r.kind == "link" and r.link is None for r in reserved):
        ways.append("an unused link holds its place until it ends")
    if any(r.link for r in reserved):
        ways.append("withdraw a link you no longer need: it frees its place at once")
    return "; ".join(ways) or "ask your administrator to raise the limit"
