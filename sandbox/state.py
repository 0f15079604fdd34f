"""The sandbox's in-memory StackOne project: sessions, accounts, and StackOne's upsert rules."""

from __future__ import annotations

import itertools
import math
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

PRIVATE_SESSION_FIELDS = ("multiple", "expires_at", "attempt")
DEFAULT_EXPIRES_IN = 1800
CONNECTORS = {"bamboohr": ("BambooHR", "hris"), "hibob": ("HiBob", "hris"), "greenhouse": ("Greenhouse", "ats"),
              "workday": ("Workday", "hris"), "salesforce": ("Salesforce", "crm")}
ACTIVE = {"bamboohr", "hibob", "greenhouse", "salesforce"}  # workday is present but not enabled


def now_iso() -> str:
    """The current time as StackOne writes it."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class SandboxProject:
    """One StackOne project's accounts and connect sessions, safe to share between server threads."""

    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)  # every API call: method, path, query, body
    latency: float = 0.0  # seconds every StackOne API call waits first (POST /sandbox/latency)
    faults: list[dict[str, Any]] = field(default_factory=list)  # armed by POST /sandbox/faults
    # Whether POST /connect_sessions/authenticate includes latest_connection_attempt (POST /sandbox/settings): it is
    # in StackOne's newest documents and in no SDK version, so a client must also work without it.
    connection_attempts: bool = True
    webhooks: bool = True  # False plays webhooks StackOne never delivered (POST /sandbox/settings)
    max_page_size: int = 0  # GET /accounts serves at most this many a page (0: as asked); POST /sandbox/settings
    # StackOne's rate limit per API key (POST /sandbox/settings): at most rate_limit API calls in any rate_window
    # seconds (a sliding log, the strictest reading of "1,000 a minute"), else 429 with Retry-After; 0 is no limit.
    rate_limit: int = 0
    rate_window: float = 60.0
    rate_limited: int = 0  # how many calls it answered 429 for the limit (not for an armed fault)
    _sent: deque = field(default_factory=deque)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_session(self, body: dict[str, Any]) -> dict[str, Any]:
        """Store a connect session and return StackOne's 201 body (less auth_link_url)."""
        with self.lock:
            session_id = next(self._ids)
            token = "sbx_" + secrets.token_urlsafe(24)
            session = {
                "id": session_id, "organization_id": "sandbox-org", "project_id": "sandbox-project",
                "origin_owner_id": body["origin_owner_id"], "origin_owner_name": body["origin_owner_name"],
                "origin_username": body.get("origin_username"), "provider": body.get("provider"),
                "categories": body.get("categories"), "account_id": body.get("account_id"),
                "label": body.get("label"), "metadata": body.get("metadata"), "created_at": now_iso(),
                "type": body.get("type") or "production",
                "connector_profile_id": body.get("connector_profile_id") or body.get("integration_id"),
                "token": token, "multiple": bool(body.get("multiple")),
                # StackOne returns it with every session: a credential of the hub's, never to reach a browser.
                "external_trigger_token": "ett_" + secrets.token_urlsafe(24),
                "expires_at": time.time() + int(body.get("expires_in") or DEFAULT_EXPIRES_IN),
            }
            self.sessions[token] = session
            return {k: v for k, v in session.items() if k not in PRIVATE_SESSION_FIELDS}

    def session_details(self, token: str) -> dict[str, Any]:
        """POST /connect_sessions/authenticate: the session without its token, plus the latest attempt if any.

        A session past its lifetime still authenticates (StackOne's documents say nothing of an early end, and the
        status list has `expired`): its latest attempt then reads `expired` unless it had completed.
        """
        with self.lock:
            session = self.sessions.get(token)
            if session is None:
                raise LookupError("the session token is unknown")
            details = {k: v for k, v in session.items() if k not in PRIVATE_SESSION_FIELDS + ("token",)}
            attempt = dict(session["attempt"]) if session.get("attempt") else None
            if session["expires_at"] < time.time() and (attempt or {}).get("status") != "authenticated":
                attempt = _attempt(session, "expired", None)
            if attempt and self.connection_attempts:
                details["latest_connection_attempt"] = attempt
            return details

    def limit_rate(self, limit: int, window: float) -> None:
        """Set the rate limit (0: none); a changed limit counts afresh."""
        with self.lock:
            if (limit, window) != (self.rate_limit, self.rate_window):
                self._sent.clear()
            self.rate_limit, self.rate_window = limit, float(window)

    def throttle(self, now: float) -> int | None:
        """Count an API call against the rate limit: None when it may go on, else the Retry-After seconds."""
        with self.lock:
            if not self.rate_limit:
                return None
            while self._sent and self._sent[0] <= now - self.rate_window:
                self._sent.popleft()
            if len(self._sent) >= self.rate_limit:
                self.rate_limited += 1
                return max(1, math.ceil(self._sent[0] + self.rate_window - now))
            self._sent.append(now)
            return None

    def take_fault(self, method: str, path: str) -> dict[str, Any] | None:
        """The first armed fault for this call (counting it down), or None: POST /sandbox/faults."""
        with self.lock:
            for fault in self.faults:
                if fault["method"] in (None, method) and fault["path"] in (None, path):
                    fault["times"] -= 1
                    if fault["times"] <= 0:
                        self.faults.remove(fault)
                    return dict(fault)
            return None

    def cancel(self, token: str) -> None:
        """What the hub records when the user closes it without connecting."""
        with self.lock:
            session = self.sessions.get(token)
            if session is None:
                raise LookupError("the session token is unknown")
            session["attempt"] = _attempt(session, "cancelled", None)

    def delete(self, account_id: str) -> dict[str, Any]:
        """DELETE /accounts/{id}: remove the account and return it as it was."""
        with self.lock:
            account = self.accounts.pop(account_id, None)
            if account is None:
                raise LookupError("the account does not exist")
            return dict(account)

    def mark(self, account_id: str, status: str, reasons: list[dict[str, Any]]) -> dict[str, Any]:
        """A sandbox control: set an account's status and reasons, as when a provider revokes its credentials."""
        with self.lock:
            account = self.accounts.get(account_id)
            if account is None:
                raise LookupError("the account does not exist")
            account.update(status=status, updated_at=now_iso(), status_reasons=[
                {"code": str(r.get("code", "")), "description": str(r.get("description", "")),
                 "timestamp": now_iso()} for r in reasons])
            return dict(account)

    def live_session(self, token: str) -> dict[str, Any] | None:
        """The session for a hub token, or None when unknown or expired (the hub then says the token expired)."""
        with self.lock:
            session = self.sessions.get(token)
            return dict(session) if session and session["expires_at"] >= time.time() else None

    def complete(self, token: str, provider: str | None, credentials: dict[str, Any] | None = None
                 ) -> tuple[str, dict[str, Any]]:
        """What the hub does when the user finishes: StackOne's create / update / multiple rules."""
        with self.lock:
            session = self.sessions.get(token)
            if session is None or session["expires_at"] < time.time():
                raise LookupError("the session token is unknown or expired")
            provider = session["provider"] or provider
            if not provider or provider not in ACTIVE:
                raise ValueError("choose an enabled provider")
            target = None
            if session["account_id"]:
                target = self.accounts.get(session["account_id"])
                if target is None or target["origin_owner_id"] != session["origin_owner_id"]:
                    raise LookupError("the account does not belong to this owner")
            elif not session["multiple"]:
                target = next((a for a in self.accounts.values() if a["provider"] == provider
                               and a["origin_owner_id"] == session["origin_owner_id"]
                               and a["origin_owner_name"] == session["origin_owner_name"]
                               and a["status"] != "archived"), None)
            if target is not None:
                target.update(updated_at=now_iso(), status="active", status_reasons=[],
                              origin_username=session["origin_username"])
                if credentials and credentials.get("subdomain"):
                    target["setup_information"] = {"subdomain": str(credentials["subdomain"])}
                if session["label"]:
                    target["label"] = session["label"]
                session["attempt"] = _attempt(session, "authenticated", target["id"])
                return "account.updated", dict(target)
            account_id = str(10**19 + next(self._ids))
            account = {
                "id": account_id, "provider": provider, "provider_name": CONNECTORS[provider][0],
                "status": "active", "status_reasons": [], "origin_owner_id": session["origin_owner_id"],
                "origin_owner_name": session["origin_owner_name"], "origin_username": session["origin_username"],
                "label": session["label"], "type": session["type"], "created_at": now_iso(), "updated_at": now_iso(),
                # Present as in StackOne's LinkedAccount, so the tests can prove the service never passes them on.
                "credentials": {"api_key": "sandbox-provider-secret"},
                "setup_information": {"subdomain": str((credentials or {}).get("subdomain") or "acme")},
            }
            self.accounts[account_id] = account
            session["attempt"] = _attempt(session, "authenticated", account_id)
            return "account.created", dict(account)


    def seed(self, count: int, owners: int, provider: str) -> list[str]:
        """Make `count` active accounts over `owners` owners at once (no session, no webhook)."""
        made = []
        with self.lock:
            for n in range(count):
                owner = f"seed-org-{n % owners + 1}"
                account_id = str(10**19 + next(self._ids))
                self.accounts[account_id] = {
                    "id": account_id, "provider": provider, "provider_name": CONNECTORS[provider][0],
                    "status": "active", "status_reasons": [], "origin_owner_id": owner,
                    "origin_owner_name": owner.title(), "origin_username": f"user{n}@{owner}.test", "label": None,
                    "type": "production", "created_at": now_iso(), "updated_at": now_iso(),
                    "credentials": {"api_key": "sandbox-provider-secret"}, "setup_information": {"subdomain": "acme"}}
                made.append(account_id)
        return made


def _attempt(session: dict[str, Any], status: str, account_id: str | None) -> dict[str, Any]:
    """The session's latest_connection_attempt as StackOne describes it."""
    previous = session.get("attempt") or {}
    return {"id": previous.get("id") or secrets.token_hex(8), "created_at": previous.get("created_at") or now_iso(),
            "updated_at": now_iso(), "status": status, "account_secure_id": account_id,
            "oauth_error_code": None, "oauth_error_description": None}
