"""Domain errors. The API layer maps each to Mastodon's status code and error JSON."""

from __future__ import annotations


class DomainError(Exception):
    """Base class: ``str(error)`` is a message a person understands."""


class NotFound(DomainError):
    def __init__(self, what: str = "Record not found") -> None:
        super().__init__(what)


class Forbidden(DomainError):
    pass


class Unauthorized(DomainError):
    pass


class ValidationFailed(DomainError):
    """The request is well-formed but its content is not acceptable (HTTP 422)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Validation failed: {message}")


class BadRequest(DomainError):
    """The request is malformed (HTTP 400)."""


class TooLarge(DomainError):
    """The upload or body is over the configured limit (HTTP 413)."""
