"""Mastodon's pagination: max_id, since_id, min_id and limit over time-sorted ids."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select

DEFAULT_LIMIT = 20
MAX_LIMIT = 40


@dataclass(frozen=True)
class Page:
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = DEFAULT_LIMIT

    def apply(self, query: Select[Any], column: Any) -> Select[Any]:
        """Bound and order ``query`` by ``column``; with min_id the page is the oldest after it."""
        if self.max_id is not None:
            query = query.where(column < self.max_id)
        if self.since_id is not None:
            query = query.where(column > self.since_id)
        if self.min_id is not None:
            query = query.where(column > self.min_id)
            return query.order_by(column.asc()).limit(self.limit)
        return query.order_by(column.desc()).limit(self.limit)

    def newest_first(self, ids: Sequence[int]) -> list[int]:
        return sorted(ids, reverse=True) if self.min_id is not None else list(ids)

    async def pairs(self, conn: Any, query: Select[Any], column: Any) -> list[tuple[int, int]]:
        """Run a two-column query (paging id, other id) for this page, newest first."""
        rows = (await conn.execute(self.apply(query, column))).all()
        if self.min_id is not None:
            rows.reverse()
        return [(int(r[0]), int(r[1])) for r in rows]
