"""Schema migrations (Alembic), applied to every region's database."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from stoa.config import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def _ensure_parent(url: str) -> None:
    if url.startswith("sqlite") and "///" in url:
        path = url.split("///", 1)[1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def newest_revision() -> str:
    """The revision a fully migrated store is at."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None
    return head


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Bring every region's store up to ``revision`` without losing data (idempotent); arm the residency guards."""
    for region in settings.region_names:
        url = settings.database_url_for(region)
        _ensure_parent(url)
        command.upgrade(alembic_config(url), revision)
        if revision == "head":
            _arm_guards(url, region)


def _arm_guards(url: str, region: str) -> None:
    """Claim the database for its region and (re)install a guard on every private table."""
    import asyncio

    from sqlalchemy import pool
    from sqlalchemy.ext.asyncio import create_async_engine

    from stoa.store import guards

    async def arm() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(guards.claim_region, region)
                await conn.run_sync(guards.install)
        finally:
            await engine.dispose()

    asyncio.run(arm())


def current_revision(settings: Settings) -> str | None:
    """The schema revision the store is at (None when empty), asked through the configured driver."""
    import asyncio

    from alembic.runtime.migration import MigrationContext
    from sqlalchemy.ext.asyncio import create_async_engine

    async def ask() -> str | None:
        engine = create_async_engine(settings.resolved_database_url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())
        finally:
            await engine.dispose()

    return asyncio.run(ask())
