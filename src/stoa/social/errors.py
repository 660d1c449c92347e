"""Moved to ``stoa.core.errors`` (kept while branches that import the old path land)."""

from stoa.core.errors import BadRequest, DomainError, Forbidden, NotFound, TooLarge, Unauthorized, ValidationFailed

__all__ = ["BadRequest", "DomainError", "Forbidden", "NotFound", "TooLarge", "Unauthorized", "ValidationFailed"]
