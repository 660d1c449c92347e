"""Public counts kept on their rows (followers, posts, likes, boosts, replies), moved one step at a time.

A count never goes below zero, whatever order increments and decrements arrive in (a replayed or
late decrement must not show "-1 likes"); the clamp is ``max`` on SQLite, ``greatest`` on PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import Column, ColumnElement, Table, func

from stoa.store.database import Connection


def shifted(conn: Connection, column: Column[int] | ColumnElement[int], delta: int) -> ColumnElement[int]:
    """``column + delta``, never below zero."""
    value = column + delta
    if delta >= 0:
        return value
    return func.max(value, 0) if conn.dialect.name == "sqlite" else func.greatest(value, 0)


async def shift(conn: Connection, table: Table, row_id: int, column: str, delta: int) -> None:
    """Move one row's count by ``delta`` (the row is found by its ``id``)."""
    await conn.execute(table.update().where(table.c.id == row_id)
                       .values({column: shifted(conn, table.c[column], delta)}))
