"""The outbox: consumers are idempotent and restartable; a failed batch is retried, not lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import func, select

from stoa.social.events import FavouriteCreated, StatusUpdated
from stoa.store.database import Connection
from stoa.store.events import Consumer, Entry
from stoa.store.schema import consumer_cursors, events, home_feed
from tests.helpers import drain, sign_up


async def _feed_rows(client: httpx.AsyncClient) -> list[tuple[int, int]]:
    db = client.app.state.store.db  # type: ignore[attr-defined]
    async with db.read() as conn:
        return sorted((r.account_id, r.status_id) for r in await conn.execute(select(home_feed)))


async def test_replaying_every_event_changes_nothing(client: httpx.AsyncClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    for i in range(3):
        await client.post("/api/v1/statuses", headers=alice.headers, data={"status": f"post {i} @bob"})
    await drain(client)
    before = await _feed_rows(client)
    notes_before = (await client.get("/api/v1/notifications", headers=bob.headers)).json()
    db = client.app.state.store.db  # type: ignore[attr-defined]
    async with db.write() as conn:  # rewind every consumer to the beginning, as after a crash
        await conn.execute(consumer_cursors.update().values(position=0))
    assert await drain(client) > 0
    assert await _feed_rows(client) == before
    notes_after = (await client.get("/api/v1/notifications", headers=bob.headers)).json()
    assert [n["id"] for n in notes_after] == [n["id"] for n in notes_before]


async def test_a_failing_batch_is_rolled_back_and_retried(client: httpx.AsyncClient) -> None:
    alice = await sign_up(client, "alice")
    await client.post("/api/v1/statuses", headers=alice.headers, data={"status": "hello"})
    db = client.app.state.store.db  # type: ignore[attr-defined]
    seen: list[int] = []

    async def explode(conn: Connection, batch: Sequence[Entry]) -> None:
        seen.extend(e.id for e in batch)
        await conn.execute(home_feed.delete())  # a partial write that must not survive
        raise RuntimeError("crash in the middle of a batch")

    with pytest.raises(RuntimeError):
        await Consumer("flaky", explode).run_once(db)
    async with db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(home_feed))).scalar_one() == 1
        position = (await conn.execute(select(consumer_cursors.c.position)
                                       .where(consumer_cursors.c.name == "flaky"))).scalar()
    assert position in (None, 0)

    handled: list[int] = []

    async def record(conn: Connection, batch: Sequence[Entry]) -> None:
        handled.extend(e.id for e in batch)

    await Consumer("flaky", record).drain(db)
    assert handled == seen  # the same events, delivered again


async def test_rows_of_older_shapes_and_unknown_types_are_still_delivered(client: httpx.AsyncClient) -> None:
    """Databases hold rows written by earlier builds: they decode (missing fields take their defaults)
    or, for a type this build does not define, reach only consumers of every row, as untyped."""
    alice = await sign_up(client, "alice")
    post = (await client.post("/api/v1/statuses", headers=alice.headers, data={"status": "hello"})).json()
    await drain(client)
    db = client.app.state.store.db  # type: ignore[attr-defined]
    async with db.write() as conn:
        await conn.execute(events.insert(), [
            {"type": "status.updated", "payload": {"status_id": int(post["id"]), "account_id": int(alice.id),
                                                   "new_mentions": [], "visibility": "public"},
             "created_at": datetime.now(UTC)},
            {"type": "favourite.created", "payload": {"account_id": int(alice.id), "status_id": int(post["id"])},
             "created_at": datetime.now(UTC)},
            {"type": "poll.voted", "payload": {"account_id": int(alice.id)}, "created_at": datetime.now(UTC)}])
    assert await drain(client) > 0  # every consumer got past them
    seen: list[Entry] = []

    async def record(conn: Connection, batch: Sequence[Entry]) -> None:
        seen.extend(batch)

    await Consumer("everything", record).drain(db)
    updated, liked, unknown = seen[-3:]
    assert updated.event == StatusUpdated(int(post["id"]), int(alice.id), "public")
    assert liked.event == FavouriteCreated(int(alice.id), int(post["id"]), status_account_id=None)
    assert (unknown.type, unknown.event) == ("poll.voted", None)
