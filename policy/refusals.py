"""The policy's own refusals, each with the status and code the caller sees (shared ones are in errors.py)."""

from errors import ServiceError


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
