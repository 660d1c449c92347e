"""Things redeemed once: one conditional write, never read-then-write.

A single-use thing (an authorization code, an idempotency key, an invitation)
is taken by whichever request's write lands first. Reading "is it used?" and
then writing "now it is" lets two concurrent requests both read "unused" —
on PostgreSQL at READ COMMITTED nothing stops them — and both win. Instead the
condition goes into the write itself and the database answers who won:

* ``redeem_once`` — ``UPDATE … SET used_at = now WHERE <match> AND used_at IS NULL
  RETURNING *``: the row, to exactly one caller; ``None`` to every other.
* ``claim_once`` — ``INSERT … ON CONFLICT DO NOTHING RETURNING``: True for exactly
  one caller inserting a given unique key; False for every other.

Both rely on ``RETURNING`` (SQLite 3.35 and later, PostgreSQL). A loser that
needs to know why it lost (never existed, or already used) may read the row
afterwards: that read decides nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Row, Table
from sqlalchemy.dialects import postgresql, sqlite

from stoa.store.database import Connection


async def redeem_once(conn: Connection, table: Table, match: ColumnElement[bool], *, used: str = "used_at",
                      at: datetime | None = None) -> Row[Any] | None:
    """Mark the row matching ``match`` as used (``used`` := ``at`` or now) if it was not yet; return it then.

    ``None`` means there is no such row or someone else already used it. The returned row carries the
    values after the update (``used`` set).
    """
    used_column = table.c[used]
    statement = (
        table.update()
        .where(match, used_column.is_(None))
        .values({used: at or datetime.now(UTC)})
        .returning(*table.c)
    )
    return (await conn.execute(statement)).first()


async def claim_once(conn: Connection, table: Table, values: dict[str, Any]) -> bool:
    """Insert ``values`` unless a row with the same unique key exists; True only for the caller that inserted.

    The table needs a primary key or unique constraint covering the key being claimed.
    """
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    key = list(table.primary_key.columns)[:1] or list(table.c)[:1]
    statement = dialect.insert(table).values(**values).on_conflict_do_nothing().returning(*key)
    return (await conn.execute(statement)).first() is not None
