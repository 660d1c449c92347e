"""`stoa migrate` keeps data; the operator commands work on a real store."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from stoa.cli import app
from stoa.config import Settings

runner = CliRunner()


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STOA_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("STOA_DATA_DIR", str(settings.data_dir))
    return settings


def invoke(*args: str, input: str | None = None) -> str:
    result = runner.invoke(app, list(args), input=input, env=dict(os.environ))
    assert result.exit_code == 0, result.output
    return result.output


def test_user_lifecycle_and_tokens(cli_env: Settings) -> None:
    invoke("user", "create", "operator", "--email", "op@example.org", "--password", "operator password",
           "--role", "admin", "--reason", "first administrator")
    assert "operator" in invoke("user", "list", "--reason", "weekly account review")
    token = invoke("token", "create", "operator", "--scopes", "read", "--reason", "backup script").strip()
    assert len(token.splitlines()[-1]) > 30
    duplicate = runner.invoke(app, ["user", "create", "operator", "--email", "x@example.org", "--password",
                                    "another password", "--reason", "typo"], env=dict(os.environ))
    assert duplicate.exit_code == 1 and "taken" in duplicate.output
    invoke("user", "suspend", "operator", "--reason", "spam reports #12")
    assert "yes" in invoke("user", "list", "--reason", "check the suspension")
    invoke("user", "unsuspend", "operator", "--reason", "appeal granted")
    missing = runner.invoke(app, ["user", "suspend", "nobody", "--reason", "x"], env=dict(os.environ))
    assert missing.exit_code == 1


def test_operator_actions_need_a_reason_and_are_logged(cli_env: Settings) -> None:
    import asyncio

    from stoa.residency.transparency import RegionKey, TransparencyLog
    from stoa.store.database import Database

    for args in (["user", "list"], ["user", "list", "--reason", "   "], ["token", "create", "x"],
                 ["user", "suspend", "x"]):
        refused = runner.invoke(app, args, env=dict(os.environ))
        assert refused.exit_code == 2 and "reason" in refused.output, args
    invoke("user", "create", "ada", "--email", "ada@example.org", "--password", "ada's password",
           "--reason", "support ticket 7")
    invoke("user", "suspend", "ada", "--reason", "court order 2026/114")

    async def read() -> list[dict[str, object]]:
        import orjson

        db = Database(cli_env.resolved_database_url)
        log = TransparencyLog(db, "local", RegionKey.for_region(cli_env.data_dir, "local"))
        head = await log.head()
        rows = await log.entries(0, head.size)
        await db.dispose()
        return [orjson.loads(bytes(r.leaf_input)) for r in rows]

    entries = asyncio.run(read())
    assert [(e["action"], e["reason"]) for e in entries] == [
        ("user.create", "support ticket 7"), ("user.suspend", "court order 2026/114")]
    assert all(str(e["actor"]).startswith("operator:") for e in entries)
    assert entries[1]["subject_account_id"] == entries[0]["subject_account_id"]


def test_migrate_twice_keeps_data(cli_env: Settings) -> None:
    invoke("user", "create", "keeper", "--email", "k@example.org", "--password", "keeper password",
           "--reason", "test account")
    upgraded = re.search(r"schema (\d+) -> (\d+)", invoke("migrate"))
    assert upgraded is not None
    before, after = upgraded.groups()
    assert before == after  # already at the newest schema: nothing to do, nothing lost
    assert "keeper" in invoke("user", "list", "--reason", "check the upgrade")


def test_demo_community_is_consistent(cli_env: Settings, tmp_path: Path) -> None:
    output = invoke("demo", "--accounts", "60", "--posts", "400", "--follows", "8")
    assert "Demo community loaded" in output
    assert "already has accounts" in invoke("demo", "--accounts", "60", "--posts", "400")

    import asyncio

    from sqlalchemy import text

    from stoa.store.database import Database

    async def check() -> dict[str, int]:
        db = Database(cli_env.resolved_database_url)
        try:
            async with db.read() as conn:
                wrong_followers = (await conn.execute(text(
                    "SELECT count(*) FROM accounts a WHERE followers_count <> "
                    "(SELECT count(*) FROM follows f WHERE f.target_account_id = a.id)"))).scalar_one()
                langs = (await conn.execute(text(
                    "SELECT count(DISTINCT language) FROM statuses WHERE language IS NOT NULL"))).scalar_one()
                feeds = (await conn.execute(text("SELECT count(DISTINCT account_id) FROM home_feed"))).scalar_one()
                notes = (await conn.execute(text("SELECT count(*) FROM notifications"))).scalar_one()
                replies = (await conn.execute(text(
                    "SELECT count(*) FROM statuses WHERE in_reply_to_id IS NOT NULL"))).scalar_one()
                boosts = (await conn.execute(text(
                    "SELECT count(*) FROM statuses WHERE reblog_of_id IS NOT NULL"))).scalar_one()
            return {"wrong": wrong_followers, "langs": langs, "feeds": feeds, "notes": notes,
                    "replies": replies, "boosts": boosts}
        finally:
            await db.dispose()

    found = asyncio.run(check())
    assert found["wrong"] == 0 and found["langs"] == 3
    assert found["feeds"] >= 50 and found["notes"] > 0 and found["replies"] > 0 and found["boosts"] > 0


def test_upgrading_an_older_store_keeps_its_data(backend: str, tmp_path: Path) -> None:
    """A store created at revision 0001, with people and posts in it, upgrades to head intact."""
    import asyncio

    from sqlalchemy import text

    from stoa.store.database import Database
    from stoa.store.migrate import current_revision, newest_revision, upgrade
    from tests.databases import database_url, dispose_url

    url = database_url(backend, tmp_path)
    old = Settings(data_dir=tmp_path, database_url=url)
    try:
        upgrade(old, "0001")
        assert current_revision(old) == "0001"

        async def seed() -> None:
            db = Database(url)
            async with db.write() as conn:
                await conn.execute(text(
                    "INSERT INTO accounts (id, username, username_lower, display_name, note, fields, locked, bot,"
                    " discoverable, region, followers_count, following_count, statuses_count, created_at,"
                    " updated_at) VALUES (1, 'old', 'old', 'Old', '', '[]', false, false, true, 'local', 0, 0, 1,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
                await conn.execute(text(
                    "INSERT INTO statuses (id, account_id, text, content, spoiler_text, sensitive, visibility,"
                    " replies_count, reblogs_count, favourites_count, created_at) VALUES (2, 1, 'kept', '<p>kept</p>',"
                    " '', false, 'public', 0, 0, 0, CURRENT_TIMESTAMP)"))
            await db.dispose()

        async def read() -> list[str]:
            db = Database(url)
            async with db.read() as conn:
                rows = [r[0] for r in await conn.execute(text("SELECT text FROM statuses"))]
            await db.dispose()
            return rows

        asyncio.run(seed())
        upgrade(old)
        assert current_revision(old) == newest_revision()
        assert asyncio.run(read()) == ["kept"]
    finally:
        dispose_url(backend, url)
