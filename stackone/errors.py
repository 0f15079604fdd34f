"""StackOne's failures, mapped to the service's own errors; the view never sees a requests exception."""

from errors import ServiceError


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
