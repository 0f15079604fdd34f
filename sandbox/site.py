"""The running sandbox as its routes see it (its project, public URL and webhooks), and StackOne's error body."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, jsonify

from sandbox.state import SandboxProject, now_iso
from sandbox.webhooks import Webhooks


@dataclass(frozen=True)
class Site:
    """One sandbox app's per-app objects, kept in app.extensions["sandbox_site"]."""

    project: SandboxProject
    public_url: str
    webhooks: Webhooks
    expected_auth: str  # the Authorization header the API key makes (Basic, key as user, no password)


def site() -> Site:
    """The sandbox app answering this request."""
    return current_app.extensions["sandbox_site"]


def error(status: int, message: str | list[str], headers: dict[str, str] | None = None) -> tuple:
    """StackOne's error body: statusCode, a string message (its schema says string), timestamp."""
    text = "; ".join(message) if isinstance(message, list) else str(message)
    return jsonify({"statusCode": status, "message": text, "timestamp": now_iso()}), status, headers or {}
