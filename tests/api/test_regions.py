"""Two regions, one square: people homed in `us` and `eu` follow, reply, like and read each other,
while every private row stays in its owner's region (SQLite files per region, or two PostgreSQL
databases)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select

from stoa.config import Settings
from stoa.feeds import trending
from stoa.social.consumers import CounterKeeper
from stoa.store import guards
from stoa.store.schema import (
    accounts,
    blocks,
    bookmarks,
    consumer_cursors,
    events,
    favourites,
    follow_requests,
    follows,
    home_feed,
    notifications,
    pins,
    statuses,
    trending_posts,
    users,
    views,
)
from tests.databases import create_postgres_database, drop_postgres_database
from tests.helpers import AppClient, User, drain, register_app


@pytest.fixture
def regional_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    from stoa.store.migrate import upgrade

    if backend == "sqlite":
        s = Settings(data_dir=tmp_path, regions="us,eu", region="us", run_workers=False)
        urls: list[str] = []
    else:
        urls = [create_postgres_database(), create_postgres_database()]
        s = Settings(data_dir=tmp_path, regions="us,eu", region="us", run_workers=False,
                     region_database_urls=f"us={urls[0]};eu={urls[1]}")
    upgrade(s)
    try:
        yield s
    finally:
        for url in urls:
            drop_postgres_database(url)


@pytest.fixture
async def regional(regional_settings: Settings) -> AsyncIterator[AppClient]:
    from stoa.app import create_app

    async with AppClient(create_app(regional_settings)) as c:
        yield c
    await c.close_app()


async def sign_up_in(client: AppClient, username: str, region: str | None) -> User:
    app = await register_app(client)
    token = (await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "scope": "read write follow push"})).json()["access_token"]
    fields = {"username": username, "email": f"{username}@example.org", "password": "correct horse battery",
              "agreement": "true", **({"region": region} if region else {})}
    response = await client.post("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}, data=fields)
    assert response.status_code == 200, response.text
    user_token = response.json()["access_token"]
    me = (await client.get("/api/v1/accounts/verify_credentials",
                           headers={"Authorization": f"Bearer {user_token}"})).json()
    return User(me["id"], username, user_token)


async def count(client: AppClient, region: str, table: Table, account_id: str) -> int:
    db = client.region(region)
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table).where(
            table.c.account_id == int(account_id)))).scalar_one())


async def held_for(client: AppClient, region: str, status_id: str) -> int | None:
    """Whom the region's copy of a post is held for (None: the author's own); KeyError: no copy."""
    db = client.region(region)
    async with db.read() as conn:
        row = (await conn.execute(select(statuses.c.held_for_id).where(statuses.c.id == int(status_id)))).first()
    if row is None:
        raise KeyError(status_id)
    return row.held_for_id


async def test_two_regions_one_square(regional: AppClient) -> None:
    client = regional
    alice = await sign_up_in(client, "alice", None)  # the default region: us
    carol = await sign_up_in(client, "carol", "us")
    bob = await sign_up_in(client, "bob", "eu")
    assert alice.token.startswith("us.") and bob.token.startswith("eu.")
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=bob.headers)).json()
    assert me["stoa"]["region"] == "eu"
    taken = await client.post("/api/v1/accounts", headers=bob.headers, data={})
    assert taken.status_code in (403, 422)
    # A name is unique across regions.
    app = await register_app(client)
    token = (await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "scope": "write"})).json()["access_token"]
    clash = await client.post("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}, data={
        "username": "bob", "email": "other@example.org", "password": "correct horse battery",
        "agreement": "true", "region": "us"})
    assert clash.status_code == 422
    # Signing in finds the home region.
    signed_in = await client.post("/oauth/token", data={
        "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "username": "bob", "password": "correct horse battery", "scope": "read"})
    assert signed_in.status_code == 200 and signed_in.json()["access_token"].startswith("eu.")
    await drain(client)

    # Bob (eu) follows Alice (us); Alice follows Bob back.
    assert (await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)).status_code == 200
    assert (await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)).status_code == 200
    assert (await client.post(f"/api/v1/accounts/{carol.id}/mute", headers=alice.headers)).status_code == 200
    await drain(client)
    hello = (await client.post("/api/v1/statuses", headers=alice.headers,
                               data={"status": "Hello from the US @bob #cycling"})).json()
    ciao = (await client.post("/api/v1/statuses", headers=bob.headers, data={"status": "Ciao from the EU"})).json()
    secret = await client.post("/api/v1/statuses", headers=alice.headers,
                               data={"status": "@carol just us", "visibility": "direct"})
    assert secret.status_code == 200
    psst = (await client.post("/api/v1/statuses", headers=alice.headers,
                              data={"status": "@bob psst", "visibility": "direct"})).json()
    await drain(client)

    bob_home = [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=bob.headers)).json()]
    alice_home = [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=alice.headers)).json()]
    assert hello["id"] in bob_home and ciao["id"] in bob_home  # eu reads a US post in its own region
    assert hello["id"] in alice_home and ciao["id"] in alice_home  # and the other way round
    bob_notes = (await client.get("/api/v1/notifications", headers=bob.headers)).json()
    assert {(n["type"], n["account"]["username"]) for n in bob_notes} >= {("mention", "alice"), ("follow", "alice")}

    # A direct post across regions reaches its recipient, and only them; the answer travels back.
    assert psst["id"] in bob_home and psst["id"] in {n["status"]["id"] for n in bob_notes if n["status"]}
    assert (await client.get(f"/api/v1/statuses/{psst['id']}", headers=bob.headers)).json()["visibility"] == "direct"
    assert (await client.get(f"/api/v1/statuses/{psst['id']}", headers=carol.headers)).status_code == 404
    answer = (await client.post("/api/v1/statuses", headers=bob.headers, data={
        "status": "@alice got it", "visibility": "direct", "in_reply_to_id": psst["id"]})).json()
    await drain(client)
    thread = (await client.get(f"/api/v1/statuses/{psst['id']}/context", headers=alice.headers)).json()
    assert [s["id"] for s in thread["descendants"]] == [answer["id"]]
    assert answer["id"] in [n["status"]["id"] for n in (await client.get(
        "/api/v1/notifications", headers=alice.headers)).json() if n["type"] == "mention"]
    assert await held_for(client, "eu", psst["id"]) == int(bob.id)  # the recipient's copy, in their region
    assert await held_for(client, "us", answer["id"]) == int(alice.id)

    # Bob likes, bookmarks and replies to Alice's post from the EU.
    await client.post(f"/api/v1/statuses/{hello['id']}/favourite", headers=bob.headers)
    await client.post(f"/api/v1/statuses/{hello['id']}/bookmark", headers=bob.headers)
    viewed = await client.post("/api/v1/stoa/feeds/views", headers=bob.headers,
                               data={"status_id": hello["id"], "watched_ms": "5000"})
    assert viewed.status_code == 200
    reply = (await client.post("/api/v1/statuses", headers=bob.headers, data={
        "status": "@alice Welcome!", "in_reply_to_id": hello["id"]})).json()
    await drain(client)
    alice_notes = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert {(n["type"], n["account"]["username"]) for n in alice_notes} >= {
        ("follow", "bob"), ("favourite", "bob"), ("mention", "bob")}
    for viewer in (alice, bob):  # the counts agree in both regions
        seen = (await client.get(f"/api/v1/statuses/{hello['id']}", headers=viewer.headers)).json()
        assert (seen["favourites_count"], seen["replies_count"]) == (1, 1), viewer.username
        profile = (await client.get(f"/api/v1/accounts/{alice.id}", headers=viewer.headers)).json()
        assert profile["followers_count"] == 1, viewer.username
    context = (await client.get(f"/api/v1/statuses/{hello['id']}/context", headers=alice.headers)).json()
    assert [s["id"] for s in context["descendants"]] == [reply["id"]]
    tagged = (await client.get("/api/v1/timelines/tag/cycling", headers=bob.headers)).json()
    assert [s["id"] for s in tagged] == [hello["id"]]

    await client.delete(f"/api/v1/statuses/{psst['id']}", headers=alice.headers)
    await drain(client)
    assert (await client.get(f"/api/v1/statuses/{psst['id']}", headers=bob.headers)).status_code == 404

    # Edits and deletes reach the replica.
    await client.put(f"/api/v1/statuses/{hello['id']}", headers=alice.headers,
                     data={"status": "Hello from the US, edited @bob #cycling"})
    await drain(client)
    edited = (await client.get(f"/api/v1/statuses/{hello['id']}", headers=bob.headers)).json()
    assert "edited" in edited["content"]
    await client.delete(f"/api/v1/statuses/{hello['id']}", headers=alice.headers)
    await drain(client)
    assert (await client.get(f"/api/v1/statuses/{hello['id']}", headers=bob.headers)).status_code == 404
    bob_home = [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=bob.headers)).json()]
    assert hello["id"] not in bob_home

    # Where the private rows are: each person's, in their home region only.
    assert await count(client, "eu", users, bob.id) == 1 and await count(client, "us", users, bob.id) == 0
    assert await count(client, "eu", bookmarks, bob.id) == 1 and await count(client, "us", bookmarks, bob.id) == 0
    assert await count(client, "eu", views, bob.id) == 1 and await count(client, "us", views, bob.id) == 0
    assert await count(client, "eu", favourites, bob.id) == 1 and await count(client, "us", favourites, bob.id) == 0
    assert await count(client, "us", notifications, alice.id) >= 2
    assert await count(client, "eu", notifications, alice.id) == 0
    assert await count(client, "eu", home_feed, alice.id) == 0 and await count(client, "us", home_feed, bob.id) == 0
    store = client.store
    for region in ("us", "eu"):
        async with store.region(region).read() as conn:
            checked, found = await guards.misplaced(conn, region)
        assert found == [], region
        assert sum(checked.values()) > 0


async def test_a_region_down_answers_503_and_is_caught_up_later(regional: AppClient) -> None:
    from stoa.store.database import Database
    from stoa.store.replication import replicators_for

    client = regional
    alice, bob = await sign_up_in(client, "alice", "us"), await sign_up_in(client, "bob", "eu")
    await drain(client)
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    await drain(client)

    store = client.store
    eu = store._regions["eu"]
    store._regions["eu"] = Database("postgresql+asyncpg://postgres@127.0.0.1:1/gone", "eu")  # eu goes dark
    try:
        down = await client.get("/api/v1/timelines/home", headers=bob.headers)
        assert down.status_code == 503 and "eu" in down.json()["error"] and down.headers["retry-after"]
        refused = await client.post("/api/v1/statuses", headers=bob.headers, data={"status": "lost?"})
        assert refused.status_code == 503
        posted = await client.post("/api/v1/statuses", headers=alice.headers, data={"status": "while eu sleeps"})
        assert posted.status_code == 200  # the other region carries on
        for replicator in replicators_for({"us": store.region("us"), "eu": store.region("eu")}):
            with pytest.raises(Exception, match="unavailable"):
                await replicator.run_once()
    finally:
        await store._regions["eu"].dispose()
        store._regions["eu"] = eu
    await drain(client)  # eu is back: it pulls what it missed
    home = [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=bob.headers)).json()]
    assert posted.json()["id"] in home
    mine = (await client.get(f"/api/v1/accounts/{bob.id}/statuses", headers=bob.headers)).json()
    assert mine == []  # the refused post was not half-written


async def test_erasure_reaches_every_region(regional: AppClient) -> None:
    client = regional
    alice, bob = await sign_up_in(client, "alice", "us"), await sign_up_in(client, "bob", "eu")
    await drain(client)
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    hello = (await client.post("/api/v1/statuses", headers=alice.headers, data={"status": "hello"})).json()
    await drain(client)
    await client.post(f"/api/v1/statuses/{hello['id']}/favourite", headers=bob.headers)
    bobs = (await client.post("/api/v1/statuses", headers=bob.headers, data={"status": "@alice hi"})).json()
    await drain(client)
    assert (await client.get(f"/api/v1/statuses/{hello['id']}", headers=alice.headers)).json()["favourites_count"] == 1

    ben = await sign_up_in(client, "ben", "eu")
    await drain(client)
    to_bob = (await client.post("/api/v1/statuses", headers=alice.headers,
                                data={"status": "@bob only you", "visibility": "direct"})).json()
    to_both = (await client.post("/api/v1/statuses", headers=alice.headers,
                                 data={"status": "@bob @ben you two", "visibility": "direct"})).json()
    await drain(client)
    assert await held_for(client, "eu", to_both["id"]) == min(int(bob.id), int(ben.id))

    erased = await client.post("/api/v1/stoa/account/erase", headers=bob.headers,
                               data={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text
    await drain(client)
    seen = (await client.get(f"/api/v1/statuses/{hello['id']}", headers=alice.headers)).json()
    assert seen["favourites_count"] == 0  # kept right in the post's own region
    assert (await client.get(f"/api/v1/accounts/{alice.id}", headers=alice.headers)).json()["followers_count"] == 0
    assert (await client.get(f"/api/v1/statuses/{bobs['id']}", headers=alice.headers)).status_code == 404
    assert (await client.get(f"/api/v1/accounts/{bob.id}", headers=alice.headers)).status_code == 404
    assert (await client.get("/api/v1/notifications", headers=alice.headers)).json() == []
    assert await count(client, "eu", users, bob.id) == 0 and await count(client, "eu", favourites, bob.id) == 0
    # What others sent Bob goes from his region; what was also sent to Ben stays, now held for Ben.
    with pytest.raises(KeyError):
        await held_for(client, "eu", to_bob["id"])
    assert await held_for(client, "eu", to_both["id"]) == int(ben.id)
    assert (await client.get(f"/api/v1/statuses/{to_both['id']}", headers=ben.headers)).status_code == 200
    assert (await client.get(f"/api/v1/statuses/{to_bob['id']}", headers=alice.headers)).status_code == 200


async def test_follow_requests_to_a_locked_account_in_another_region(regional: AppClient) -> None:
    client = regional
    alice, carol, dave = [await sign_up_in(client, name, "us") for name in ("alice", "carol", "dave")]
    bob = await sign_up_in(client, "bob", "eu")
    await client.patch("/api/v1/accounts/update_credentials", headers=bob.headers, data={"locked": "true"})
    await drain(client)

    async def relationship(user: User) -> dict[str, object]:
        return (await client.get("/api/v1/accounts/relationships", params={"id[]": bob.id},
                                 headers=user.headers)).json()[0]

    for user in (alice, carol, dave):
        asked = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=user.headers)
        assert asked.status_code == 200 and asked.json()["requested"] is True
    await drain(client)
    pending = (await client.get("/api/v1/follow_requests", headers=bob.headers)).json()
    assert {a["username"] for a in pending} == {"alice", "carol", "dave"}
    notes = (await client.get("/api/v1/notifications", headers=bob.headers)).json()
    assert sorted(n["account"]["username"] for n in notes if n["type"] == "follow_request") == [
        "alice", "carol", "dave"]

    for region, holder in (("us", None), ("eu", int(bob.id))):  # each side's copy, in its own region
        async with client.region(region).read() as conn:
            held = (await conn.execute(select(follow_requests.c.held_for_id))).scalars().all()
            assert held == [holder] * 3 and (await guards.misplaced(conn, region))[1] == []

    # Dave changes his mind (in his region); Bob accepts Alice and rejects Carol (in his).
    await client.post(f"/api/v1/accounts/{bob.id}/unfollow", headers=dave.headers)
    await drain(client)
    assert {a["username"] for a in (await client.get("/api/v1/follow_requests", headers=bob.headers)).json()} == {
        "alice", "carol"}
    assert (await client.post(f"/api/v1/follow_requests/{alice.id}/authorize", headers=bob.headers)).status_code == 200
    assert (await client.post(f"/api/v1/follow_requests/{carol.id}/reject", headers=bob.headers)).status_code == 200
    await drain(client)
    assert (await relationship(alice))["following"] is True and (await relationship(alice))["requested"] is False
    assert (await relationship(carol))["following"] is False and (await relationship(carol))["requested"] is False
    assert (await client.get("/api/v1/follow_requests", headers=bob.headers)).json() == []
    notes = (await client.get("/api/v1/notifications", headers=bob.headers)).json()
    assert [(n["type"], n["account"]["username"]) for n in notes] == [("follow", "alice")]
    for viewer in (alice, bob):  # both ends' counts, in both regions
        assert (await client.get(f"/api/v1/accounts/{alice.id}", headers=viewer.headers)).json()[
            "following_count"] == 1
        assert (await client.get(f"/api/v1/accounts/{bob.id}", headers=viewer.headers)).json()[
            "followers_count"] == 1
    # Now following, Alice reads Bob's followers-only posts in her home timeline.
    quiet = (await client.post("/api/v1/statuses", headers=bob.headers,
                               data={"status": "for my followers", "visibility": "private"})).json()
    await drain(client)
    assert quiet["id"] in [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=alice.headers)).json()]
    for region in ("us", "eu"):
        async with client.region(region).read() as conn:
            assert (await conn.execute(select(func.count()).select_from(follow_requests))).scalar_one() == 0
            assert (await guards.misplaced(conn, region))[1] == []


async def regional_scores(client: AppClient, region: str) -> dict[str, tuple[int, int]]:
    db = client.region(region)
    async with db.read() as conn:
        rows = (await conn.execute(select(trending_posts))).all()
    return {str(r.status_id): (r.engagement, r.regional_engagement) for r in rows}


async def test_trending_by_region_counts_only_that_regions_people(regional: AppClient) -> None:
    client = regional
    writer = await sign_up_in(client, "writer", "us")
    americans = [await sign_up_in(client, f"us{i}", "us") for i in range(3)]
    europeans = [await sign_up_in(client, f"eu{i}", "eu") for i in range(2)]
    reader_us, reader_eu = await sign_up_in(client, "readus", "us"), await sign_up_in(client, "readeu", "eu")

    async def say(text: str) -> str:
        return str((await client.post("/api/v1/statuses", headers=writer.headers,
                                      data={"status": text, "language": "en"})).json()["id"])

    loved_in_us, loved_in_eu = await say("Bike to work day"), await say("Night trains are back")
    await drain(client)
    for person in americans:
        assert (await client.post(f"/api/v1/statuses/{loved_in_us}/favourite", headers=person.headers)).is_success
    for person in europeans:
        assert (await client.post(f"/api/v1/statuses/{loved_in_eu}/favourite", headers=person.headers)).is_success
    # A direct reply is private: it counts nowhere.
    assert (await client.post("/api/v1/statuses", headers=americans[0].headers, data={
        "status": "@writer just between us", "in_reply_to_id": loved_in_us, "visibility": "direct"})).is_success
    # A European boost counts twice, in Europe only.
    booster = await sign_up_in(client, "booster", "eu")
    assert (await client.post(f"/api/v1/statuses/{loved_in_eu}/reblog", headers=booster.headers)).is_success
    await drain(client)

    # Overall engagement is the same everywhere; each region counts only its own people.
    for region in ("us", "eu"):
        scores = await regional_scores(client, region)
        assert scores.get(loved_in_us, (None,))[0] == 3 and scores[loved_in_eu][0] == 4, (region, scores)
    assert (await regional_scores(client, "us"))[loved_in_us][1] == 3
    assert (await regional_scores(client, "us"))[loved_in_eu][1] == 0
    assert (await regional_scores(client, "eu"))[loved_in_us][1] == 0
    assert (await regional_scores(client, "eu"))[loved_in_eu][1] == 4

    async def sources(reader: User, status_id: str) -> tuple[list[str], str]:
        why = (await client.get(f"/api/v1/stoa/feeds/for_you/explain/{status_id}", headers=reader.headers)).json()
        return why["sources"], why["sentence"]

    here, sentence = await sources(reader_us, loved_in_us)
    assert "trending-region" in here and "popular with people in your region (us)" in sentence
    assert "trending" in (await sources(reader_us, loved_in_eu))[0]
    assert "trending-region" not in (await sources(reader_us, loved_in_eu))[0]
    here, sentence = await sources(reader_eu, loved_in_eu)
    assert "trending-region" in here and "popular with people in your region (eu)" in sentence
    assert "trending-region" not in (await sources(reader_eu, loved_in_us))[0]
    # The rebuild after a bulk load gives the same numbers.
    for region in ("us", "eu"):
        before = await regional_scores(client, region)
        db = client.region(region)
        async with db.write() as conn:
            await trending.rebuild(conn)
        assert await regional_scores(client, region) == before


async def test_privacy_holds_across_regions(regional: AppClient) -> None:
    """A boost of a followers-only post stays followers-only in every region, and an edit that drops a
    direct post's recipients abroad removes the copy held for them there."""
    alice, dave = await sign_up_in(regional, "alice", "us"), await sign_up_in(regional, "dave", "us")
    bob, carol = await sign_up_in(regional, "bob", "eu"), await sign_up_in(regional, "carol", "eu")
    await drain(regional)  # each region learns of the others' people
    assert (await regional.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)).status_code == 200
    await drain(regional)
    private = (await regional.post("/api/v1/statuses", headers=alice.headers,
                                   data={"status": "followers only", "visibility": "private"})).json()
    boost = (await regional.post(f"/api/v1/statuses/{private['id']}/reblog", headers=alice.headers)).json()
    assert boost["visibility"] == "private"
    await drain(regional)
    for headers in ({}, carol.headers, dave.headers):  # signed out (us), a stranger in eu, a stranger in us
        for sid in (private["id"], boost["id"]):
            assert (await regional.get(f"/api/v1/statuses/{sid}", headers=headers)).status_code == 404
        shown = (await regional.get(f"/api/v1/accounts/{alice.id}/statuses", headers=headers)).json()
        assert shown == []
    assert (await regional.get(f"/api/v1/statuses/{boost['id']}", headers=bob.headers)).status_code == 200

    direct = (await regional.post("/api/v1/statuses", headers=alice.headers,
                                  data={"status": "@bob @carol @dave plans", "visibility": "direct"})).json()
    await drain(regional)
    assert (await regional.get(f"/api/v1/statuses/{direct['id']}", headers=carol.headers)).status_code == 200
    assert await count(regional, "eu", statuses, alice.id) >= 1
    edited = await regional.put(f"/api/v1/statuses/{direct['id']}", headers=alice.headers,
                                data={"status": "@dave plans, just us"})
    assert edited.status_code == 200
    await drain(regional)
    for reader in (bob, carol):
        assert (await regional.get(f"/api/v1/statuses/{direct['id']}", headers=reader.headers)).status_code == 404
    async with regional.region("eu").read() as conn:
        held = (await conn.execute(select(func.count()).select_from(statuses).where(
            statuses.c.id == int(direct["id"])))).scalar_one()
    assert held == 0
    assert (await regional.get(f"/api/v1/statuses/{direct['id']}", headers=dave.headers)).status_code == 200


async def outbox_types(client: AppClient, region: str) -> list[str]:
    db = client.region(region)
    async with db.read() as conn:
        return list((await conn.execute(select(events.c.type).order_by(events.c.id))).scalars())


async def test_private_events_stay_in_their_home_region(regional: AppClient) -> None:
    """Mutes, For You controls and views are recorded as events in the actor's region only (a block goes
    to the blocked person's region as well: see the next test)."""
    alice, bob = await sign_up_in(regional, "alice", "us"), await sign_up_in(regional, "bob", "eu")
    await drain(regional)
    hello = (await regional.post("/api/v1/statuses", headers=alice.headers, data={"status": "hello"})).json()
    await drain(regional)
    for path, form in ((f"/api/v1/accounts/{alice.id}/block", {}), (f"/api/v1/accounts/{alice.id}/unblock", {}),
                       (f"/api/v1/accounts/{alice.id}/mute", {}), (f"/api/v1/accounts/{alice.id}/unmute", {}),
                       ("/api/v1/stoa/feeds/for_you/less", {"account_id": alice.id}),
                       ("/api/v1/stoa/feeds/for_you/labels", {"label": "sensitive", "action": "hide"}),
                       ("/api/v1/stoa/feeds/for_you/reset", {}),
                       ("/api/v1/stoa/feeds/views", {"status_id": hello["id"], "watched_ms": "4000"})):
        response = await regional.post(path, headers=bob.headers, data=form)
        assert response.status_code == 200, (path, response.text)
    await drain(regional)
    private = {"mute.created", "mute.deleted", "for_you.less", "for_you.label", "for_you.reset", "view.recorded"}
    assert private <= set(await outbox_types(regional, "eu"))
    assert not private & set(await outbox_types(regional, "us"))


async def held_blocks(client: AppClient, region: str) -> list[tuple[int, int, int | None]]:
    db = client.region(region)
    async with db.read() as conn:
        rows = await conn.execute(select(blocks.c.account_id, blocks.c.target_account_id, blocks.c.held_for_id))
        return [(int(r.account_id), int(r.target_account_id), r.held_for_id) for r in rows]


async def test_a_block_holds_in_the_blocked_persons_region(regional: AppClient) -> None:
    """Alice (us) blocks Bob (eu): in his own region Bob can no longer see, answer or like her posts, nor
    follow her back; lifting the block, or erasing Alice, removes the copy held for him."""
    alice, bob = await sign_up_in(regional, "alice", "us"), await sign_up_in(regional, "bob", "eu")
    await drain(regional)
    assert (await regional.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)).status_code == 200
    await drain(regional)
    private = (await regional.post("/api/v1/statuses", headers=alice.headers,
                                   data={"status": "followers only", "visibility": "private"})).json()
    public = (await regional.post("/api/v1/statuses", headers=alice.headers, data={"status": "public"})).json()
    await drain(regional)
    assert (await regional.get(f"/api/v1/statuses/{private['id']}", headers=bob.headers)).status_code == 200

    assert (await regional.post(f"/api/v1/accounts/{bob.id}/block", headers=alice.headers)).status_code == 200
    await drain(regional)
    assert await held_blocks(regional, "eu") == [(int(alice.id), int(bob.id), int(bob.id))]
    for sid in (private["id"], public["id"]):
        assert (await regional.get(f"/api/v1/statuses/{sid}", headers=bob.headers)).status_code == 404
        assert (await regional.post(f"/api/v1/statuses/{sid}/favourite", headers=bob.headers)).status_code == 404
    reply = await regional.post("/api/v1/statuses", headers=bob.headers,
                                data={"status": "hey", "in_reply_to_id": public["id"]})
    assert reply.status_code == 422
    assert (await regional.get(f"/api/v1/accounts/{alice.id}/statuses", headers=bob.headers)).json() == []
    assert (await regional.get("/api/v1/timelines/home", headers=bob.headers)).json() == []
    refollow = await regional.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    assert refollow.status_code == 403
    rel = (await regional.get("/api/v1/accounts/relationships", params={"id[]": alice.id},
                              headers=bob.headers)).json()[0]
    assert (rel["blocked_by"], rel["following"]) == (True, False)
    for region in ("us", "eu"):
        async with regional.region(region).read() as conn:
            assert (await guards.misplaced(conn, region))[1] == []

    assert (await regional.post(f"/api/v1/accounts/{bob.id}/unblock", headers=alice.headers)).status_code == 200
    await drain(regional)
    assert await held_blocks(regional, "eu") == []
    assert (await regional.get(f"/api/v1/statuses/{public['id']}", headers=bob.headers)).status_code == 200
    assert (await regional.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)).status_code == 200

    assert (await regional.post(f"/api/v1/accounts/{bob.id}/block", headers=alice.headers)).status_code == 200
    await drain(regional)
    assert len(await held_blocks(regional, "eu")) == 1
    erased = await regional.post("/api/v1/stoa/account/erase", headers=alice.headers,
                                 data={"password": "correct horse battery"})
    assert erased.status_code == 200, erased.text
    await drain(regional)
    assert await held_blocks(regional, "eu") == []


async def test_pins_and_follow_options_reach_the_other_region(regional: AppClient) -> None:
    alice, bob = await sign_up_in(regional, "alice", "us"), await sign_up_in(regional, "bob", "eu")
    await drain(regional)
    await regional.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    hello = (await regional.post("/api/v1/statuses", headers=alice.headers, data={"status": "hello"})).json()
    assert (await regional.post(f"/api/v1/statuses/{hello['id']}/pin", headers=alice.headers)).status_code == 200
    changed = await regional.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers,
                                  data={"notify": "true", "reblogs": "false"})
    assert changed.status_code == 200
    await drain(regional)

    async def rows_in(region: str, table: Any, *where: Any) -> list[Any]:
        async with regional.region(region).read() as conn:
            return list((await conn.execute(select(table).where(*where))).all())

    pinned = await rows_in("eu", pins, pins.c.account_id == int(alice.id))  # the replica of alice's pin
    assert [int(p.status_id) for p in pinned] == [int(hello["id"])]
    follow = await rows_in("us", follows, follows.c.account_id == int(bob.id))  # the replica of bob's follow
    assert [(f.notify, f.show_reblogs) for f in follow] == [(True, False)]
    assert (await regional.post(f"/api/v1/statuses/{hello['id']}/unpin", headers=alice.headers)).status_code == 200
    await drain(regional)
    async with regional.region("eu").read() as conn:
        assert (await conn.execute(select(func.count()).select_from(pins))).scalar_one() == 0


async def test_replaying_replicated_events_counts_each_once(regional: AppClient) -> None:
    """A like, boost, reply and follow from another region change the home region's counts once, however
    often the counter keeper's batch is replayed (a rewound cursor, a rebuild)."""
    alice, bob = await sign_up_in(regional, "alice", "us"), await sign_up_in(regional, "bob", "eu")
    await drain(regional)
    await regional.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    hello = (await regional.post("/api/v1/statuses", headers=alice.headers, data={"status": "hello"})).json()
    await drain(regional)
    await regional.post(f"/api/v1/statuses/{hello['id']}/favourite", headers=bob.headers)
    await regional.post(f"/api/v1/statuses/{hello['id']}/reblog", headers=bob.headers)
    await regional.post("/api/v1/statuses", headers=bob.headers,
                        data={"status": "@alice hi", "in_reply_to_id": hello["id"]})
    await drain(regional)

    async def counts() -> list[tuple[int, int, int, int]]:
        seen = []
        for region, reader in (("us", alice), ("eu", bob)):  # each served from the reader's home region
            post = (await regional.get(f"/api/v1/statuses/{hello['id']}", headers=reader.headers)).json()
            db = regional.region(region)
            async with db.read() as conn:
                followers = (await conn.execute(select(accounts.c.followers_count).where(
                    accounts.c.id == int(alice.id)))).scalar_one()
            seen.append((post["favourites_count"], post["reblogs_count"], post["replies_count"], followers))
        return seen

    assert await counts() == [(1, 1, 1, 1)] * 2
    us = regional.region("us")
    for _ in range(2):  # the same batch, twice
        async with us.write() as conn:
            await conn.execute(consumer_cursors.update().where(consumer_cursors.c.name == "counters")
                               .values(position=0))
        assert await CounterKeeper(us, "us").consumer().drain(us) > 0
        await drain(regional)
        assert await counts() == [(1, 1, 1, 1)] * 2
