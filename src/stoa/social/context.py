"""Moved to ``stoa.core.context`` (kept while branches that import the old path land)."""

from stoa.core.context import Context

__all__ = ["Context"]
