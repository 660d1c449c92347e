"""The store refuses private rows of accounts homed elsewhere; `stoa residency check` finds any that got in."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from typer.testing import CliRunner

from stoa.cli import app
from stoa.config import Settings
from stoa.store import guards
from stoa.store.database import Database
from stoa.store.ids import new_id
from stoa.store.migrate import upgrade
from stoa.store.schema import accounts, bookmarks, media_attachments, mentions, statuses

runner = CliRunner()


def _account(region: str, username: str) -> dict[str, object]:
    now = datetime.now(UTC)
    return {"id": new_id(), "username": username, "username_lower": username, "display_name": "", "note": "",
            "region": region, "created_at": now, "updated_at": now}


def _status(account_id: object, visibility: str) -> dict[str, object]:
    return {"id": new_id(), "account_id": account_id, "text": "x", "content": "x", "spoiler_text": "",
            "sensitive": False, "visibility": visibility, "created_at": datetime.now(UTC)}


async def _scenario(settings: Settings) -> None:
    db = Database(settings.resolved_database_url)
    try:
        here, away = _account("local", "here"), _account("eu", "away")  # "away" is a replica of an eu account
        async with db.write() as conn:
            await conn.execute(accounts.insert(), [here, away])
            guarded = await conn.run_sync(guards.installed)
        assert guarded == {rule.table for rule in guards.rules()}  # every private table carries a guard

        public = _status(away["id"], "public")
        async with db.write() as conn:
            await conn.execute(statuses.insert().values(**public))  # public content may be replicated here
            await conn.execute(bookmarks.insert().values(id=new_id(), account_id=here["id"], status_id=public["id"],
                                                         created_at=datetime.now(UTC)))
        refused = [
            bookmarks.insert().values(id=new_id(), account_id=away["id"], status_id=public["id"],
                                      created_at=datetime.now(UTC)),
            statuses.insert().values(**_status(away["id"], "direct")),  # a direct post is its author's private data
            media_attachments.insert().values(id=new_id(), account_id=away["id"], type="image", content_type="x",
                                              meta={}, description="", focus_x=0, focus_y=0,
                                              created_at=datetime.now(UTC)),  # an unattached upload
        ]
        for statement in refused:
            with pytest.raises(IntegrityError, match="residency"):
                async with db.write() as conn:
                    await conn.execute(statement)
        # Whatever the path: raw SQL is refused too, and so is moving a row to a foreign owner.
        with pytest.raises(IntegrityError, match="residency"):
            async with db.write() as conn:
                await conn.execute(text("UPDATE bookmarks SET account_id = :away"), {"away": away["id"]})
        # A direct post from away to someone homed here: the copy held for the recipient belongs here.
        held = {**_status(away["id"], "direct"), "held_for_id": here["id"]}
        async with db.write() as conn:
            await conn.execute(statuses.insert().values(**held))
            await conn.execute(mentions.insert().values(status_id=held["id"], account_id=here["id"]))
        with pytest.raises(IntegrityError, match="residency"):  # held for someone homed elsewhere: refused
            async with db.write() as conn:
                await conn.execute(statuses.insert().values(**_status(away["id"], "direct"), held_for_id=away["id"]))
        async with db.read() as conn:
            checked, found = await guards.misplaced(conn, "local")
        assert found == [] and checked["bookmarks"] == 1 and checked["statuses"] == 1
        # A copy "held" for someone it was never addressed to is the author's private data: misplaced.
        stray = {**_status(away["id"], "direct"), "held_for_id": here["id"]}
        async with db.write() as conn:
            await conn.execute(statuses.insert().values(**stray))
        async with db.read() as conn:
            checked, found = await guards.misplaced(conn, "local")
        assert [(f.table, f.key, f.owner_region) for f in found] == [("statuses", str(stray["id"]), "eu")]
    finally:
        await db.dispose()


def test_private_rows_of_other_regions_are_refused(settings: Settings) -> None:
    asyncio.run(_scenario(settings))


def test_residency_check_finds_rows_that_got_past(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOA_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("STOA_DATABASE_URL", settings.resolved_database_url)
    clean = runner.invoke(app, ["residency", "check"])
    assert clean.exit_code == 0, clean.output
    assert "Every private row is in its owner's home region" in clean.output

    async def smuggle() -> int:
        """Write a misplaced row behind the guards' back, as a bug or an old version might have."""
        db = Database(settings.resolved_database_url)
        away = _account("eu", "away")
        post = _status(away["id"], "public")
        try:
            async with db.write() as conn:
                await conn.execute(accounts.insert().values(**away))
                await conn.execute(statuses.insert().values(**post))
                if db.is_sqlite:
                    await conn.execute(text("DROP TRIGGER residency_bookmarks_insert"))
                else:
                    await conn.execute(text("SET LOCAL session_replication_role = replica"))
                await conn.execute(bookmarks.insert().values(id=new_id(), account_id=away["id"], status_id=post["id"],
                                                             created_at=datetime.now(UTC)))
        finally:
            await db.dispose()
        return int(str(away["id"]))

    owner = asyncio.run(smuggle())
    found = runner.invoke(app, ["residency", "check"])
    assert found.exit_code == 1, found.output
    assert "bookmarks" in found.output and str(owner) in found.output and "eu" in found.output
    upgrade(settings)  # the next migration re-arms the guard it lost


async def _guard_statements(settings: Settings) -> list[str]:
    """The statements one re-arming of the guards runs."""
    from sqlalchemy import event, pool
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(settings.resolved_database_url, poolclass=pool.NullPool)
    ran: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute",
                 lambda _conn, _cursor, statement, *_: ran.append(statement))
    try:
        async with engine.begin() as conn:
            await conn.run_sync(guards.install)
    finally:
        await engine.dispose()
    return [statement for statement in ran if statement.split()[0] in ("CREATE", "DROP", "COMMENT")]


def test_a_server_starting_leaves_guarded_tables_to_the_servers_answering(settings: Settings) -> None:
    """Re-arming the guards on every start would take an exclusive lock on every private table while
    other servers read them: guards already in place are left alone, a lost one is put back."""
    assert asyncio.run(_guard_statements(settings)) == []

    async def start_while_a_reader_is_in_a_transaction() -> None:
        db = Database(settings.resolved_database_url)
        try:
            async with db.read() as conn:
                await conn.execute(text("SELECT count(*) FROM home_feed"))  # holds its lock until the end
                await asyncio.wait_for(asyncio.to_thread(upgrade, settings), timeout=60)
        finally:
            await db.dispose()

    asyncio.run(start_while_a_reader_is_in_a_transaction())

    async def lose_a_guard() -> None:
        db = Database(settings.resolved_database_url)
        try:
            async with db.write() as conn:
                await conn.execute(text("DROP TRIGGER residency_bookmarks_insert" if db.is_sqlite
                                        else "DROP TRIGGER residency_guard_insert ON bookmarks"))
        finally:
            await db.dispose()

    asyncio.run(lose_a_guard())
    rearmed = asyncio.run(_guard_statements(settings))
    assert rearmed and all("bookmarks" in statement for statement in rearmed)
    assert asyncio.run(_guard_statements(settings)) == []


def test_a_database_cannot_change_region(settings: Settings) -> None:
    with pytest.raises(guards.WrongRegion, match="belongs to region 'local'"):
        upgrade(settings.model_copy(update={"region": "eu"}))


def test_operator_tools_work_in_each_persons_home_region(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("STOA_REGIONS", "us,eu")
    monkeypatch.setenv("STOA_REGION", "us")
    for name, region in (("ann", "us"), ("bea", "eu")):
        made = runner.invoke(app, ["user", "create", name, "--email", f"{name}@example.org", "--password",
                                   "a long password", "--region", region, "--reason", "test accounts"])
        assert made.exit_code == 0, made.output
    clash = runner.invoke(app, ["user", "create", "bea", "--email", "x@example.org", "--password", "a long password",
                                "--region", "us", "--reason", "duplicate"])
    assert clash.exit_code == 1 and "already been taken" in clash.output
    listed = runner.invoke(app, ["user", "list", "--reason", "audit"])
    assert listed.exit_code == 0 and "ann" in listed.output and "bea" in listed.output, listed.output
    assert runner.invoke(app, ["user", "suspend", "bea", "--reason", "test"]).exit_code == 0

    async def homes() -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for region in ("us", "eu"):
            db = Database(f"sqlite+aiosqlite:///{tmp_path / f'{region}.sqlite3'}")
            async with db.read() as conn:
                found[region] = sorted((await conn.execute(text(
                    "SELECT a.username FROM users u JOIN accounts a ON a.id = u.account_id"))).scalars())
            await db.dispose()
        return found

    assert asyncio.run(homes()) == {"us": ["ann"], "eu": ["bea"]}
    check = runner.invoke(app, ["residency", "check"])
    assert check.exit_code == 0 and "us" in check.output and "eu" in check.output, check.output
