"""The outbox: consumers are idempotent and restartable; a failed batch is retried, not lost."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from stoa.social.events import FavouriteCreated, StatusUpdated
from stoa.store.database import Connection
from stoa.store.events import Consumer, Entry
from stoa.store.schema import consumer_cursors, events, home_feed
from tests.helpers import AppClient, assert_same_projections, drain, projections, sign_up


async def test_replaying_every_event_changes_no_projection(client: AppClient) -> None:
    """Rewinding every consumer to the beginning, as after a crash, rebuilds each projection as it was:
    home timelines, notifications (dismissed ones stay dismissed), counts, search, trending, vectors."""
    alice, bob, carol = await sign_up(client, "alice"), await sign_up(client, "bob"), await sign_up(client, "carol")
    for follower in (bob, carol):
        await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=follower.headers)
    posts = [(await client.post("/api/v1/statuses", headers=alice.headers, data={
        "status": f"ride number {i} along the river @bob @carol #cycling", "language": "en"})).json() for i in range(3)]
    await client.post("/api/v1/statuses", headers=bob.headers, data={
        "status": "@alice lovely ride", "in_reply_to_id": posts[0]["id"], "language": "en"})
    await client.post(f"/api/v1/statuses/{posts[1]['id']}/reblog", headers=carol.headers)
    for fan in (bob, carol):
        await client.post(f"/api/v1/statuses/{posts[2]['id']}/favourite", headers=fan.headers)
    await client.delete(f"/api/v1/statuses/{posts[1]['id']}", headers=alice.headers)
    await drain(client)
    mentions = (await client.get("/api/v1/notifications", headers=bob.headers)).json()
    await client.post(f"/api/v1/notifications/{mentions[0]['id']}/dismiss", headers=bob.headers)
    assert (await client.get("/api/v1/notifications", headers=carol.headers)).json()
    await client.post("/api/v1/notifications/clear", headers=carol.headers)
    await drain(client)
    db = client.db
    before = await projections(db)
    assert before["home timelines"] and before["notifications"] and before["search"] and before["trending"]
    assert before["vectors"]

    async with db.write() as conn:
        await conn.execute(consumer_cursors.update().values(position=0))
    assert await drain(client) > 0
    assert_same_projections(await projections(db), before)
    assert not [n for n in before["notifications"] if n[0] == "carol"]


async def test_a_failing_batch_is_rolled_back_and_retried(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    await client.post("/api/v1/statuses", headers=alice.headers, data={"status": "hello"})
    db = client.db
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


async def test_rows_of_older_shapes_and_unknown_types_are_still_delivered(client: AppClient) -> None:
    """Databases hold rows written by earlier builds: they decode (missing fields take their defaults)
    or, for a type this build does not define, reach only consumers of every row, as untyped."""
    alice = await sign_up(client, "alice")
    post = (await client.post("/api/v1/statuses", headers=alice.headers, data={"status": "hello"})).json()
    await drain(client)
    db = client.db
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
