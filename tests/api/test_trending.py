"""Trending is kept current by its consumer: every like, boost, reply and deletion moves the one post it
touched, and the incrementally kept table always equals a rebuild from the posts themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from stoa.feeds import trending
from stoa.store.ids import id_for_time
from stoa.store.schema import trending_posts
from tests.helpers import AppClient, drain, post_id, sign_up


async def table(client: AppClient) -> dict[str, tuple[str, int]]:
    db = client.region(client.settings.region)
    async with db.read() as conn:
        rows = (await conn.execute(select(trending_posts))).all()
    return {str(r.status_id): (r.language, r.engagement) for r in rows}


async def rebuilt(client: AppClient) -> dict[str, tuple[str, int]]:
    db = client.region(client.settings.region)
    async with db.write() as conn:
        await trending.rebuild(conn)
    return await table(client)


async def test_trending_follows_engagement_as_it_happens(client: AppClient) -> None:
    alice, bob, carol = await sign_up(client, "alice"), await sign_up(client, "bob"), await sign_up(client, "carol")
    ride = await post_id(client, alice, "Coastal ride #cycling")
    pasta = await post_id(client, carol, "Pasta al pomodoro", language="it")
    quiet = await post_id(client, alice, "Not for the public square", visibility="unlisted")
    secret = await post_id(client, alice, "@bob between us", visibility="direct")
    await post_id(client, alice, "Nobody will like this one")
    for status in (ride, quiet, secret):
        await client.post(f"/api/v1/statuses/{status}/favourite", headers=bob.headers)
    await client.post(f"/api/v1/statuses/{pasta}/reblog", headers=bob.headers)
    reply = await post_id(client, bob, "@alice lovely", in_reply_to_id=ride)
    await drain(client)
    # Only public originals someone engaged with, at favourites + 2 boosts + replies.
    assert await table(client) == {ride: ("en", 2), pasta: ("it", 2)}

    db = client.region("local")
    async with db.read() as conn:
        assert await trending.top(conn, {"en"}, 10) == [int(ride)]
        assert await trending.top(conn, {"en", "it"}, 10) == sorted([int(ride), int(pasta)], reverse=True)
        assert await trending.top(conn, set(), 10) == []

    why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{ride}", headers=carol.headers)).json()
    assert "trending" in why["sources"]

    # Taking engagement back takes the post out again; a deleted post leaves at once.
    await client.post(f"/api/v1/statuses/{ride}/unfavourite", headers=bob.headers)
    await client.delete(f"/api/v1/statuses/{reply}", headers=bob.headers)
    await client.delete(f"/api/v1/statuses/{pasta}", headers=carol.headers)
    await drain(client)
    assert await table(client) == {}
    await client.post(f"/api/v1/statuses/{ride}/favourite", headers=carol.headers)
    await drain(client)
    incremental = await table(client)
    assert incremental == {ride: ("en", 1)} == await rebuilt(client)


async def test_posts_age_out_of_the_window(client: AppClient) -> None:
    db = client.region("local")
    old = id_for_time(datetime.now(UTC) - trending.WINDOW - timedelta(minutes=1))
    recent = id_for_time(datetime.now(UTC) - trending.WINDOW + timedelta(minutes=5))
    async with db.write() as conn:
        await conn.execute(trending_posts.insert(), [
            {"status_id": old, "language": "en", "engagement": 99},
            {"status_id": recent, "language": "en", "engagement": 1}])
    async with db.read() as conn:
        assert await trending.top(conn, {"en"}, 10) == [recent]  # outside the window: never served
    assert await trending.prune(db) == 1
    assert set(await table(client)) == {str(recent)}
