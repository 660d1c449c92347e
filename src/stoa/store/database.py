"""Connections to a region's store: SQLite (embedded) or PostgreSQL (at scale).

SQLite allows one writer at a time. Rather than let concurrent writers fail
with "database is locked", the store keeps one write connection (a pool of
one, so in-process writers queue) and starts every write transaction with
``BEGIN IMMEDIATE`` (so writers from other processes wait on the busy
timeout instead of deadlocking on a lock upgrade). Reads use a separate pool
in autocommit and, thanks to WAL, never block on the writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Table, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.sql.dml import Insert

Connection = AsyncConnection


class StoreUnavailable(RuntimeError):
    """A region's store cannot be reached (down, partitioned, overloaded): nothing was read or written."""

    def __init__(self, region: str) -> None:
        super().__init__(f"Region {region!r} is unavailable right now; try again shortly")
        self.region = region


UNREACHABLE = (ConnectionError, TimeoutError, OSError)


def _sqlite_engine(url: str, *, writer: bool) -> AsyncEngine:
    path = url.split("///", 1)[1]
    if path and path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(
        url,
        pool_size=1 if writer else 8,
        max_overflow=0,
        connect_args={"timeout": 30},
        # Readers run in autocommit (each SELECT sees the latest commit): nothing to roll back on return.
        pool_reset_on_return="rollback" if writer else None,
    )

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take over transaction control from the driver so we can BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA mmap_size=1073741824")  # read pages straight from the OS page cache
        if not writer:
            cursor.execute("PRAGMA query_only=1")  # a read connection can never write, whatever asks it
        cursor.close()

    if writer:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Database:
    """One region's database: a write path and a read path."""

    def __init__(self, url: str, name: str = "local") -> None:
        self.url = url
        self.name = name
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            self.write_engine = _sqlite_engine(url, writer=True)
            self.read_engine = _sqlite_engine(url, writer=False)
        else:
            self.write_engine = create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            # Reads skip BEGIN/COMMIT round trips: each statement reads the latest committed state.
            self.read_engine = self.write_engine.execution_options(isolation_level="AUTOCOMMIT")
        self._listeners: list[asyncio.Event] = []

    async def _connect(self, engine: AsyncEngine) -> AsyncConnection:
        """A pooled connection, or StoreUnavailable when the region's database cannot be reached."""
        try:
            return await engine.connect()
        except UNREACHABLE as exc:
            raise StoreUnavailable(self.name) from exc
        except DBAPIError as exc:
            if exc.connection_invalidated or isinstance(exc.orig, UNREACHABLE):
                raise StoreUnavailable(self.name) from exc
            raise

    @asynccontextmanager
    async def write(self) -> AsyncIterator[AsyncConnection]:
        """A write transaction: committed on success, rolled back on any error."""
        conn = await self._connect(self.write_engine)
        try:
            async with conn.begin():
                yield conn
        finally:
            await conn.close()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A read-only transaction (a consistent snapshot)."""
        conn = await self._connect(self.read_engine)
        try:
            async with conn.begin():
                yield conn
        finally:
            await conn.close()

    def insert_ignore(self, table: Table) -> Insert:
        """INSERT that skips rows conflicting with a unique key (idempotent consumers)."""
        if self.is_sqlite:
            return sqlite.insert(table).on_conflict_do_nothing()
        return postgresql.insert(table).on_conflict_do_nothing()

    def upsert(self, table: Table, keys: list[str], values: dict[str, Any]) -> Insert:
        """INSERT ... ON CONFLICT (keys) DO UPDATE SET the non-key values."""
        updates = {k: v for k, v in values.items() if k not in keys}
        if self.is_sqlite:
            stmt = sqlite.insert(table).values(**values)
            return stmt.on_conflict_do_update(index_elements=keys, set_=updates)
        pg = postgresql.insert(table).values(**values)
        return pg.on_conflict_do_update(index_elements=keys, set_=updates)

    # Wake-ups for in-process event consumers after a commit.
    def subscribe_wakeups(self) -> asyncio.Event:
        flag = asyncio.Event()
        self._listeners.append(flag)
        return flag

    def wake(self) -> None:
        for flag in self._listeners:
            flag.set()

    async def ping(self) -> None:
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.write_engine.dispose()
        if self.is_sqlite:  # PostgreSQL's read engine shares the write engine's pool
            await self.read_engine.dispose()
