"""The sandbox's in-memory StackOne project: sessions, accounts, and StackOne's upsert rules."""

from __future__ import annotations

import itertools
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

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
                "token": token, "multiple": bool(body.get("multiple")),
                "expires_at": time.time() + int(body.get("expires_in") or 1800),
            }
            self.sessions[token] = session
            return {k: v for k, v in session.items() if k not in ("multiple", "expires_at")}

    def complete(self, token: str, provider: str | None) -> tuple[str, dict[str, Any]]:
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
                target.update(updated_at=now_iso(), status="active", origin_username=session["origin_username"])
                if session["label"]:
                    target["label"] = session["label"]
                return "account.updated", dict(target)
            account_id = str(10**19 + next(self._ids))
            account = {
                "id": account_id, "provider": provider, "provider_name": CONNECTORS[provider][0],
                "status": "active", "status_reasons": [], "origin_owner_id": session["origin_owner_id"],
                "origin_owner_name": session["origin_owner_name"], "origin_username": session["origin_username"],
                "label": session["label"], "type": "production", "created_at": now_iso(), "updated_at": now_iso(),
                # Present as in StackOne's LinkedAccount, so the tests can prove the service never passes them on.
                "credentials": {"api_key": "sandbox-provider-secret"},
                "setup_information": {"subdomain": "acme"},
            }
            self.accounts[account_id] = account
            return "account.created", dict(account)
