"""What StackOne's schema accepts, as the sandbox checks it: connect-session bodies and account-list queries.

Taken from StackOne's OpenAPI document (ConnectSessionCreate, the GET /accounts parameters) as its SDKs ship it, and
from StackOne's current documents where they are newer (the `scheduling` category, `connector_profile_id` and its
deprecated alias `integration_id`, a string `organization_id`).
"""

from __future__ import annotations

from typing import Any

CATEGORIES = frozenset({"ats", "hris", "hris-legacy", "crm", "iam", "marketing", "lms", "stackone", "documents",
                        "ticketing", "screening", "messaging", "accounting", "scheduling"})
SESSION_TYPES = frozenset({"production", "test"})
ACCOUNT_STATUSES = frozenset({"active", "inactive", "suspended", "archived", "expired", "error"})
_STRINGS = ("origin_username", "provider", "account_id", "label", "connector_profile_id", "integration_id")


def _integer(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def session_body_errors(body: Any) -> list[str]:
    """Why a POST /connect_sessions body breaks StackOne's schema; empty when it does not."""
    if not isinstance(body, dict):
        return ["the body must be a JSON object"]
    errors = [f"{name} must be a string" for name in ("origin_owner_id", "origin_owner_name")
              if not isinstance(body.get(name), str) or not body.get(name)]
    errors += [f"{name} must be a string" for name in _STRINGS
               if body.get(name) is not None and not isinstance(body.get(name), str)]
    categories = body.get("categories")
    if categories is not None and (not isinstance(categories, list) or
                                   not all(isinstance(c, str) and c in CATEGORIES for c in categories)):
        errors.append(f"each value in categories must be one of: {', '.join(sorted(CATEGORIES))}")
    if body.get("type") is not None and body.get("type") not in SESSION_TYPES:
        errors.append("type must be one of: production, test")
    expires_in = body.get("expires_in")
    if expires_in is not None and (not _integer(expires_in) or expires_in < 1):
        errors.append("expires_in must be a positive integer number")
    if body.get("multiple") is not None and not isinstance(body.get("multiple"), bool):
        errors.append("multiple must be a boolean value")
    if body.get("metadata") is not None and not isinstance(body.get("metadata"), dict):
        errors.append("metadata must be an object")
    if "provider_version" in body:
        errors.append("provider_version is deprecated")
    return errors


def account_filter(args) -> tuple[dict[str, Any], list[str]]:
    """GET /accounts' query as filters (repeated keys for the arrays, as the spec's form/explode says), or errors."""
    errors = []
    page, size = args.get("page", "1"), args.get("page_size", "25")
    if not page.isdigit() or int(page) < 1:
        errors.append("page must be a positive integer")
    if not size.isdigit() or not 1 <= int(size) <= 1000:
        errors.append("page_size must be an integer from 1 to 1000")
    statuses = args.getlist("status")
    if any(s not in ACCOUNT_STATUSES for s in statuses):
        errors.append(f"each value in status must be one of: {', '.join(sorted(ACCOUNT_STATUSES))}")
    providers = args.getlist("providers") + ([args["provider"]] if args.get("provider") else [])
    owners = args.getlist("origin_owner_ids") + ([args["origin_owner_id"]] if args.get("origin_owner_id") else [])
    filters = {"owners": set(owners), "providers": set(providers), "ids": set(args.getlist("account_ids")),
               "statuses": set(statuses), "page": int(page) if page.isdigit() else 1,
               "size": int(size) if size.isdigit() else 25}
    return filters, errors


def account_matches(account: dict[str, Any], filters: dict[str, Any]) -> bool:
    """True when the account passes every filter that was given (an empty filter passes all)."""
    return all((not filters[key] or account[field] in filters[key])
               for key, field in (("owners", "origin_owner_id"), ("providers", "provider"), ("ids", "id"),
                                  ("statuses", "status")))
