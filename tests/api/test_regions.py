"""Two regions, one square: people homed in `us` and `eu` follow, reply, like and read each other,
while every private row stays in its owner's region (SQLite files per region, or two PostgreSQL
databases)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from stoa.config import Settings
from stoa.store import guards
from stoa.store.schema import bookmarks, favourites, home_feed, notifications, users, views
from tests.databases import create_postgres_database, drop_postgres_database
from tests.helpers import User, drain, register_app


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
async def regional(regional_settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    from stoa.app import create_app

    app = create_app(regional_settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000") as c:
        c.app = app  # type: ignore[attr-defined]
        yield c
    await app.state.hub.stop()
    await app.state.store.dispose()


async def sign_up_in(client: httpx.AsyncClient, username: str, region: str | None) -> User:
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


async def count(client: httpx.AsyncClient, region: str, table: object, account_id: str) -> int:
    db = client.app.state.store.region(region)  # type: ignore[attr-defined]
    async with db.read() as conn:
        return int((await conn.execute(select(func.count()).select_from(table).where(  # type: ignore[arg-type]
            table.c.account_id == int(account_id)))).scalar_one())  # type: ignore[attr-defined]


async def test_two_regions_one_square(regional: httpx.AsyncClient) -> None:
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
    abroad = await client.post("/api/v1/statuses", headers=alice.headers,
                               data={"status": "@bob psst", "visibility": "direct"})
    assert abroad.status_code == 422 and "@bob" in abroad.json()["error"]  # refused, not silently undelivered
    await drain(client)

    bob_home = [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=bob.headers)).json()]
    alice_home = [s["id"] for s in (await client.get("/api/v1/timelines/home", headers=alice.headers)).json()]
    assert hello["id"] in bob_home and ciao["id"] in bob_home  # eu reads a US post in its own region
    assert hello["id"] in alice_home and ciao["id"] in alice_home  # and the other way round
    bob_notes = (await client.get("/api/v1/notifications", headers=bob.headers)).json()
    assert {(n["type"], n["account"]["username"]) for n in bob_notes} >= {("mention", "alice"), ("follow", "alice")}

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
    store = client.app.state.store  # type: ignore[attr-defined]
    for region in ("us", "eu"):
        async with store.region(region).read() as conn:
            checked, found = await guards.misplaced(conn, region)
        assert found == [], region
        assert sum(checked.values()) > 0


async def test_a_region_down_answers_503_and_is_caught_up_later(regional: httpx.AsyncClient) -> None:
    from stoa.store.database import Database
    from stoa.store.replication import replicators_for

    client = regional
    alice, bob = await sign_up_in(client, "alice", "us"), await sign_up_in(client, "bob", "eu")
    await drain(client)
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    await drain(client)

    store = client.app.state.store  # type: ignore[attr-defined]
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


async def test_erasure_reaches_every_region(regional: httpx.AsyncClient) -> None:
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


async def test_what_cannot_cross_regions_yet_is_refused_clearly(regional: httpx.AsyncClient) -> None:
    client = regional
    alice, bob = await sign_up_in(client, "alice", "us"), await sign_up_in(client, "bob", "eu")
    await client.patch("/api/v1/accounts/update_credentials", headers=bob.headers, data={"locked": "true"})
    await drain(client)
    refused = await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    assert refused.status_code == 422 and "locked" in refused.json()["error"]
    await drain(client)
    assert await count(client, "us", notifications, bob.id) == 0 and await count(client, "eu", notifications,
                                                                                   bob.id) == 0
