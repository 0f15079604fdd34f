"""The policy's refusals, each with the status and code the caller sees."""

from errors import ServiceError


class ConflictingFields(ServiceError):
    """accountId and multiple: true ask for opposite things."""

    status = 422
    code = "conflicting_fields"
    title = "Conflicting fields"


class AccountNotFound(ServiceError):
    """No such account, or someone else's: one answer for both so nothing leaks."""

    status = 404
    code = "account_not_found"
    title = "Account not found"


class ProviderMismatch(ServiceError):
    """The request names a provider other than the account's."""

    status = 422
    code = "provider_mismatch"
    title = "Provider does not match the account"


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
