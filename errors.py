"""Every error the service answers on purpose, in one place: each carries its HTTP status, a stable code and a safe
message (contract/ and docs/api.md's problem table list these codes)."""

from __future__ import annotations

from typing import Any

# werkzeug's own errors (an unknown path, a wrong method), answered as problems with these codes.
HTTP_CODES = {
    400: "bad_request", 404: "not_found", 405: "method_not_allowed", 413: "payload_too_large",
    415: "unsupported_media_type", 429: "too_many_requests",
}


class ServiceError(Exception):
    """Base of every error the service answers on purpose; rendered as an RFC 9457 problem."""

    status: int = 500
    code: str = "internal_error"
    title: str = "Internal server error"

    def __init__(self, detail: str | None = None, *, headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        # Extra members of the problem body (e.g. `candidates`); must be safe to show the caller.
        self.extra = extra
        self.headers = headers or {}


# Before the request is read: the queue it waited in, the login, the page it came from, the owner's share.
class ServiceBusy(ServiceError):
    """The request waited in a queue (the proxy's, the listen backlog) until its REQUEST_DEADLINE was spent."""

    status = 503
    code = "service_busy"
    title = "Service busy"


class Unauthorized(ServiceError):
    """No identity, a bad signature, an expired token or a missing owner claim."""

    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class OriginNotAllowed(ServiceError):
    """A state-changing request carrying the ambient session cookie came from a page we do not trust."""

    status = 403
    code = "origin_not_allowed"
    title = "Origin not allowed"


class RateLimited(ServiceError):
    """The owner has used its share of StackOne calls for now (OWNER_RATE_LIMIT, or its status polls' budget)."""

    status = 429
    code = "rate_limited"
    title = "Too many requests"


# The body: its framing, its type, its JSON, its fields.
class InvalidBody(ServiceError):
    """The body's framing is broken (e.g. a malformed chunked encoding), so it cannot be read at all."""

    status = 400
    code = "invalid_body"
    title = "The request body could not be read"


class BodyTimeout(ServiceError):
    """The client stopped sending its body before it was complete."""

    status = 408
    code = "request_timeout"
    title = "The request body did not arrive in time"


class PayloadTooLarge(ServiceError):
    """The body is over the service's limit, however it was sent (Content-Length or chunked)."""

    status = 413
    code = "payload_too_large"
    title = "Request body too large"


class UnsupportedTransferCoding(ServiceError):
    """The body is sent in a transfer coding (gzip, deflate, ...) the service does not decode (RFC 9112 6.1)."""

    status = 501
    code = "unsupported_transfer_coding"
    title = "Transfer coding not supported"


class UnsupportedMediaType(ServiceError):
    """The body is not declared as JSON."""

    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class InvalidJSON(ServiceError):
    """The body is not well-formed JSON, or not a JSON object."""

    status = 400
    code = "invalid_json"
    title = "Invalid JSON body"


class OwnerFieldsForbidden(ServiceError):
    """The client tried to name the account owner, which only the login may do."""

    status = 400
    code = "owner_fields_forbidden"
    title = "Owner fields are not accepted"


class InvalidRequest(ServiceError):
    """Field-level validation errors (422), with the errors per field."""

    status = 422
    code = "validation_error"
    title = "Validation failed"


# The Idempotency-Key header on the minting routes.
class InvalidIdempotencyKey(ServiceError):
    """The Idempotency-Key header is empty, too long or has control characters."""

    status = 400
    code = "invalid_idempotency_key"
    title = "Invalid Idempotency-Key"


class IdempotencyKeyReused(ServiceError):
    """The key was used with another request body."""

    status = 422
    code = "idempotency_key_reused"
    title = "Idempotency-Key reused"


class InProgress(ServiceError):
    """The first request for this key is still being answered."""

    status = 409
    code = "idempotency_in_progress"
    title = "A request with this Idempotency-Key is in progress"


# The policy's decision (create, update or multiple) and the caps, before StackOne is called.
class ConflictingFields(ServiceError):
    """accountId and multiple: true ask for opposite things."""

    status = 422
    code = "conflicting_fields"
    title = "Conflicting fields"


class ProviderMismatch(ServiceError):
    """The request names a provider other than the account's."""

    status = 422
    code = "provider_mismatch"
    title = "Provider does not match the account"


class AccountNotFound(ServiceError):
    """No such account, or someone else's: one answer for both so nothing leaks."""

    status = 404
    code = "account_not_found"
    title = "Account not found"

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        super().__init__(detail or "No such account belongs to your organisation", **kwargs)


class ProviderNotEnabled(ServiceError):
    """The provider is not enabled on the StackOne project."""

    status = 422
    code = "provider_not_enabled"
    title = "Provider not enabled"


class DuplicateLabel(ServiceError):
    """Another account of the same owner and provider already has this label."""

    status = 409
    code = "duplicate_label"
    title = "Label already used"


class AmbiguousAccount(ServiceError):
    """Several accounts match; the caller must pick one with accountId (or ask for multiple)."""

    status = 409
    code = "ambiguous_account"
    title = "Several accounts match"


class AccountLimitReached(ServiceError):
    """A create or multiple would pass one of ACCOUNT_LIMITS' caps."""

    status = 409
    code = "account_limit"
    title = "Account limit reached"


# A session minted earlier, asked about again.
class SessionNotFound(ServiceError):
    """No such connect session for this owner (unknown, expired, or minted for someone else): one answer for all."""

    status = 404
    code = "session_not_found"
    title = "Session not found"

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        # A token's holder learns nothing of whose session it is: the same words whether StackOne knows it or not.
        super().__init__(detail or "No such session was minted for your organisation", **kwargs)



# An Auth Link of the customer's own (AUTH_LINK_BASE_URL), asked about or withdrawn by its owner.
class LinkNotFound(ServiceError):
    """No such link of this owner (unknown, past its keeping, or another organisation's): one answer for all."""

    status = 404
    code = "link_not_found"
    title = "Link not found"

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        super().__init__(detail or "No such link was sent by your organisation", **kwargs)


class LinkEnded(ServiceError):
    """The link was completed (an account was made through it) or expired: there is nothing left to withdraw."""

    status = 409
    code = "link_ended"
    title = "Link already ended"


# What every worker shares.
class StateUnavailable(ServiceError):
    """The shared state (Redis) cannot be reached; what needs it is refused so that it is tried again later."""

    status = 503
    code = "state_unavailable"
    title = "Shared state unavailable"


# StackOne's failures: the view never sees a requests exception.
class StackOneError(ServiceError):
    """Base of every failure that came from calling StackOne."""

    status = 502
    code = "upstream_error"
    title = "StackOne answered with an error"


class UpstreamRejected(StackOneError):
    """StackOne refused the request (400/422); its own `message` is passed on."""

    status = 422
    code = "upstream_rejected"
    title = "StackOne rejected the request"


class UpstreamAuthFailed(StackOneError):
    """StackOne refused our API key (401/403): the operator's problem, not the caller's."""

    status = 502
    code = "upstream_auth_failed"
    title = "The service could not authenticate to StackOne"


class UpstreamBusy(StackOneError):
    """StackOne is rate limiting or gave up on a slow provider (429/408); try again later."""

    status = 503
    code = "upstream_busy"
    title = "StackOne is busy"


class UpstreamTimeout(StackOneError):
    """StackOne did not answer within STACKONE_TIMEOUT."""

    status = 504
    code = "upstream_timeout"
    title = "StackOne did not answer in time"


class UpstreamUnreachable(StackOneError):
    """The connection to StackOne was refused or reset."""

    status = 502
    code = "upstream_unreachable"
    title = "StackOne could not be reached"


class StackOneMisconfigured(StackOneError):
    """StackOne answered 404 on a route it always serves: STACKONE_API_URL does not point at its API."""

    status = 502
    code = "stackone_misconfigured"
    title = "The service's StackOne address is wrong"


# StackOne's signed events.
class WebhookUnavailable(ServiceError):
    """Webhooks cannot be verified because no signing secret is configured."""

    status = 503
    code = "webhooks_not_configured"
    title = "Webhooks are not configured"


class BadSignature(ServiceError):
    """A webhook whose signature is missing or does not match any configured secret."""

    status = 401
    code = "invalid_signature"
    title = "Invalid webhook signature"
