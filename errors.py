"""The service's own error type: every refusal carries its HTTP status, a stable code and a safe message."""

from __future__ import annotations

from typing import Any


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


class Unauthorized(ServiceError):
    """No identity, a bad signature, an expired token or a missing owner claim."""

    status = 401
    code = "unauthorized"
    title = "Unauthorized"


class OwnerFieldsForbidden(ServiceError):
    """The client tried to name the account owner, which only the login may do."""

    status = 400
    code = "owner_fields_forbidden"
    title = "Owner fields are not accepted"


class InvalidJSON(ServiceError):
    """The body is not well-formed JSON, or not a JSON object."""

    status = 400
    code = "invalid_json"
    title = "Invalid JSON body"


class UnsupportedMediaType(ServiceError):
    """The body is not declared as JSON."""

    status = 415
    code = "unsupported_media_type"
    title = "Unsupported media type"


class InvalidRequest(ServiceError):
    """Field-level validation errors (422), with the errors per field."""

    status = 422
    code = "validation_error"
    title = "Validation failed"


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


class SessionNotFound(ServiceError):
    """No such connect session for this owner (unknown, expired, or minted for someone else): one answer for all."""

    status = 404
    code = "session_not_found"
    title = "Session not found"

    def __init__(self, detail: str | None = None, **kwargs) -> None:
        # A token's holder learns nothing of whose session it is: the same words whether StackOne knows it or not.
        super().__init__(detail or "No such session was minted for your organisation", **kwargs)


class StateUnavailable(ServiceError):
    """The shared state (Redis) cannot be reached; what needs it is refused so that it is tried again later."""

    status = 503
    code = "state_unavailable"
    title = "Shared state unavailable"


class ServiceBusy(ServiceError):
    """The request waited in a queue (the proxy's, the listen backlog) until its REQUEST_DEADLINE was spent."""

    status = 503
    code = "service_busy"
    title = "Service busy"


class RateLimited(ServiceError):
    """The owner has used its share of StackOne calls for now (OWNER_RATE_LIMIT, or its status polls' budget)."""

    status = 429
    code = "rate_limited"
    title = "Too many requests"
