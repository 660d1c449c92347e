"""Test databases: a fresh SQLite file or a fresh PostgreSQL database per test (module).

PostgreSQL is not optional: when the server at STOA_TEST_POSTGRES_URL is
unreachable the PostgreSQL tests fail, they are not skipped. Set
STOA_TEST_BACKENDS=sqlite to run only the embedded store deliberately.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg

ADMIN_URL = os.environ.get("STOA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
BACKENDS = [b for b in os.environ.get("STOA_TEST_BACKENDS", "sqlite,postgresql").split(",") if b]


def _server_url(database: str) -> str:
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


def create_postgres_database() -> str:
    """Create an empty database; returns its SQLAlchemy URL."""
    name = f"stoa_t_{uuid.uuid4().hex[:12]}"

    async def create() -> None:
        conn = await asyncpg.connect(ADMIN_URL, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return _server_url(name).replace("postgresql://", "postgresql+asyncpg://", 1)


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]

    async def drop() -> None:
        conn = await asyncpg.connect(ADMIN_URL, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def database_url(backend: str, tmp: Path) -> str:
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp / 'stoa.sqlite3'}"
    return create_postgres_database()


def dispose_url(backend: str, url: str) -> None:
    if backend == "postgresql":
        drop_postgres_database(url)
