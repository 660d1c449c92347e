"""The outbox is pruned behind its slowest reader and the retention; the counted-events ledger with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from stoa.config import Settings
from stoa.social.events import PinCreated
from stoa.store.database import Database
from stoa.store.events import emit, read_after
from stoa.store.pruning import prune_once
from stoa.store.schema import consumer_cursors, counted_events, events

WEEK = timedelta(days=7)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.resolved_database_url)
    try:
        yield database
    finally:
        await database.dispose()


async def emit_events(db: Database, n: int) -> None:
    for i in range(n):
        async with db.write() as conn:
            await emit(conn, PinCreated(account_id=1, status_id=i))


async def age(db: Database, upto: int, days: int) -> None:
    async with db.write() as conn:
        await conn.execute(update(events).where(events.c.id <= upto).values(
            created_at=datetime.now(UTC) - timedelta(days=days)))


async def place(db: Database, **positions: int) -> None:
    async with db.write() as conn:
        await conn.execute(consumer_cursors.delete())
        await conn.execute(consumer_cursors.insert(), [
            {"name": name.replace("__", ":"), "position": at, "updated_at": datetime.now(UTC)}
            for name, at in positions.items()])


async def kept(db: Database) -> tuple[list[int], list[int]]:
    async with db.read() as conn:
        return ([int(x) for x in (await conn.execute(select(events.c.id).order_by(events.c.id))).scalars()],
                [int(x) for x in (await conn.execute(select(counted_events.c.event_id)
                                                     .order_by(counted_events.c.event_id))).scalars()])


async def test_what_every_reader_passed_goes_after_the_retention_and_a_lagging_reader_keeps_the_rest(
        db: Database) -> None:
    await emit_events(db, 10)
    ids, _ = await kept(db)
    first = ids[0]
    at = [first + i for i in range(10)]  # the ten event ids, oldest first
    await age(db, at[7], days=10)  # the first eight are older than a week, the last two are recent
    async with db.write() as conn:
        await conn.execute(counted_events.insert(), [{"event_id": at[i], "created_at": datetime.now(UTC)}
                                                     for i in (1, 3, 6)])
    # Consumer "fanout" read up to the 8th, "search" lags at the 5th, the other region's replicator the 9th.
    await place(db, fanout=at[7], search=at[4], replica__here=at[8])

    assert await prune_once(db, "here", ["fanout", "search"], [db], WEEK) == (5, 2)
    assert await kept(db) == (at[5:], [at[6]])  # what "search" has not seen stays

    await place(db, fanout=at[9], search=at[9], replica__here=at[9])
    assert await prune_once(db, "here", ["fanout", "search"], [db], WEEK) == (3, 1)
    assert await kept(db) == (at[8:], [])  # read by all, but younger than the retention

    await age(db, at[9], days=10)
    await prune_once(db, "here", ["fanout", "search"], [db], WEEK)
    assert (await kept(db))[0] == [at[9]]  # the newest stays, so no id is ever handed out twice

    await emit_events(db, 1)
    async with db.read() as conn:
        assert [int(r.id) for r in await read_after(conn, at[9], 10)] == [at[9] + 1]


async def test_nothing_goes_while_a_reader_has_not_run_or_another_region_has_not_pulled(db: Database) -> None:
    await emit_events(db, 4)
    ids, _ = await kept(db)
    await age(db, ids[-1], days=30)
    await place(db, fanout=ids[-1], replica__here=ids[-1])
    assert await prune_once(db, "here", ["fanout", "new_consumer"], [], WEEK) == (0, 0)
    assert await prune_once(db, "here", ["fanout"], [db, db], WEEK) == (3, 0)
    await place(db, fanout=ids[-1])  # the other region's replicator has no cursor: it has read nothing
    await emit_events(db, 2)
    await age(db, ids[-1] + 2, days=30)
    assert await prune_once(db, "here", ["fanout"], [db], WEEK) == (0, 0)
