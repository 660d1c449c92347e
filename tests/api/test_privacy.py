"""Who sees a post, on every path that returns one: each case here leaked before the one visibility rule."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
from PIL import Image
from sqlalchemy import update

from stoa.api.mastodon.streaming import render
from stoa.social.accounts import set_suspended
from stoa.store.schema import statuses
from tests.helpers import AppClient, User, drain, post, sign_up


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 60)).save(buffer, "PNG")
    return buffer.getvalue()


async def post_with_photo(client: AppClient, user: User, text: str, visibility: str) -> dict[str, Any]:
    media = await client.post("/api/v2/media", headers=user.headers, files={"file": ("p.png", png(), "image/png")})
    assert media.status_code == 200, media.text
    return await post(client, user, text, visibility=visibility, **{"media_ids[]": media.json()["id"]})


async def follow(client: AppClient, follower: User, target: User) -> None:
    response = await client.post(f"/api/v1/accounts/{target.id}/follow", headers=follower.headers)
    assert response.status_code == 200, response.text


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


async def test_a_boost_never_widens_a_followers_only_post(client: AppClient) -> None:
    alice, bob, carol = await sign_up(client, "alice"), await sign_up(client, "bob"), await sign_up(client, "carol")
    await follow(client, bob, alice)
    private = await post_with_photo(client, alice, "For my followers only", "private")
    boosted = await client.post(f"/api/v1/statuses/{private['id']}/reblog", headers=alice.headers,
                                data={"visibility": "public"})
    assert boosted.status_code == 200, boosted.text
    boost = boosted.json()
    assert boost["visibility"] == "private" and boost["reblog"]["id"] == private["id"]
    await drain(client)

    for who in (None, carol):
        headers = who.headers if who else {}
        for sid in (boost["id"], private["id"]):
            assert (await client.get(f"/api/v1/statuses/{sid}", headers=headers)).status_code == 404
        assert ids(await client.get("/api/v1/statuses", headers=headers,
                                    params=[("id[]", boost["id"]), ("id[]", private["id"])])) == []
        assert ids(await client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=headers)) == []
        assert (await client.get(f"/api/v1/statuses/{boost['id']}/context", headers=headers)).status_code == 404
    assert (await client.post(f"/api/v1/statuses/{private['id']}/reblog", headers=carol.headers)).status_code == 404
    # A follower sees both, with the photo.
    seen = await client.get(f"/api/v1/statuses/{boost['id']}", headers=bob.headers)
    assert seen.status_code == 200 and seen.json()["reblog"]["media_attachments"]
    assert boost["id"] in ids(await client.get("/api/v1/timelines/home", headers=bob.headers))

    # A boost stored public before this rule (or by a peer that lies) still hides a private original.
    app = client.app
    async with app.state.store.db.write() as conn:
        await conn.execute(update(statuses).where(statuses.c.id == int(boost["id"])).values(visibility="public"))
    assert (await client.get(f"/api/v1/statuses/{boost['id']}")).status_code == 404
    assert ids(await client.get(f"/api/v1/accounts/{alice.id}/statuses")) == []
    assert ids(await client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=carol.headers)) == []


async def test_bookmarks_and_favourites_follow_a_later_block(client: AppClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    public = await post(client, alice, "Worth keeping")
    for action in ("bookmark", "favourite"):
        assert (await client.post(f"/api/v1/statuses/{public['id']}/{action}", headers=bob.headers)).status_code == 200
    assert ids(await client.get("/api/v1/bookmarks", headers=bob.headers)) == [public["id"]]
    assert ids(await client.get("/api/v1/favourites", headers=bob.headers)) == [public["id"]]

    assert (await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice.headers)).status_code == 200
    edited = await client.put(f"/api/v1/statuses/{public['id']}", headers=alice.headers,
                              data={"status": "Edited after the block"})
    assert edited.status_code == 200
    await drain(client)
    assert ids(await client.get("/api/v1/bookmarks", headers=bob.headers)) == []
    assert ids(await client.get("/api/v1/favourites", headers=bob.headers)) == []
    assert (await client.get(f"/api/v1/statuses/{public['id']}", headers=bob.headers)).status_code == 404
    assert (await client.get(f"/api/v1/statuses/{public['id']}/history", headers=bob.headers)).status_code == 404


async def test_an_edit_that_drops_a_recipient_drops_their_access(client: AppClient) -> None:
    alice, bob, carol = await sign_up(client, "alice"), await sign_up(client, "bob"), await sign_up(client, "carol")
    direct = await post(client, alice, "@bob @carol the plan", visibility="direct")
    await drain(client)
    for reader in (bob, carol):
        assert (await client.get(f"/api/v1/statuses/{direct['id']}", headers=reader.headers)).status_code == 200
    edited = await client.put(f"/api/v1/statuses/{direct['id']}", headers=alice.headers,
                              data={"status": "@bob the plan, between us"})
    assert edited.status_code == 200 and [m["username"] for m in edited.json()["mentions"]] == ["bob"]
    await drain(client)
    assert (await client.get(f"/api/v1/statuses/{direct['id']}", headers=bob.headers)).status_code == 200
    assert (await client.get(f"/api/v1/statuses/{direct['id']}", headers=carol.headers)).status_code == 404
    assert (await client.get(f"/api/v1/statuses/{direct['id']}/history", headers=carol.headers)).status_code == 404
    assert direct["id"] not in ids(await client.get("/api/v1/timelines/home", headers=carol.headers))
    notes = (await client.get("/api/v1/notifications", headers=carol.headers)).json()
    assert [n for n in notes if n.get("status") and n["status"]["id"] == direct["id"]] == []
    found = await client.get("/api/v2/search", headers=carol.headers, params={"q": "plan", "type": "statuses"})
    assert found.json()["statuses"] == []


async def test_signed_media_urls_die_with_the_post_and_the_account(client: AppClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    await follow(client, bob, alice)
    first = await post_with_photo(client, alice, "One", "private")
    second = await post_with_photo(client, alice, "Two", "private")
    urls = []
    for p in (first, second):
        seen = (await client.get(f"/api/v1/statuses/{p['id']}", headers=bob.headers)).json()
        url = seen["media_attachments"][0]["url"]
        assert "signature=" in url and (await client.get(url)).status_code == 200
        urls.append(url)
    assert (await client.delete(f"/api/v1/statuses/{first['id']}", headers=alice.headers)).status_code == 200
    assert (await client.get(urls[0])).status_code == 404
    assert (await client.get(urls[1])).status_code == 200
    app = client.app
    async with app.state.store.db.write() as conn:
        await set_suspended(conn, int(alice.id), True)
    assert (await client.get(urls[1])).status_code == 404


async def test_for_you_answers_the_same_for_a_hidden_post_and_a_missing_one(client: AppClient) -> None:
    alice, carol = await sign_up(client, "alice"), await sign_up(client, "carol")
    hidden = [(await post(client, alice, "Followers only", visibility="private"))["id"],
              (await post(client, alice, "@alice a note to self", visibility="direct"))["id"]]
    missing = str(int(hidden[0]) + 12345)
    await drain(client)
    for sid in [*hidden, missing]:
        explained = await client.get(f"/api/v1/stoa/feeds/for_you/explain/{sid}", headers=carol.headers)
        assert explained.status_code == 404, (sid, explained.text)
        less = await client.post("/api/v1/stoa/feeds/for_you/less", headers=carol.headers, data={"status_id": sid})
        assert less.status_code == 404, (sid, less.text)
        view = await client.post("/api/v1/stoa/feeds/views", headers=carol.headers, data={"status_id": sid})
        assert view.status_code == 404


async def test_deletes_reach_only_those_who_could_see_the_post_on_every_stream(client: AppClient) -> None:
    app = client.app
    ctx = app.state.ctx
    await app.state.hub.start()
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    await follow(client, bob, alice)
    broker = app.state.broker
    anonymous = broker.open(None)
    broker.subscribe(anonymous, "public")
    follower = broker.open(int(bob.id))  # one multiplexed connection, three columns
    for key in (f"user:{bob.id}", "public", "hashtag:news"):
        broker.subscribe(follower, key)
    private = await post(client, alice, "Followers only #news", visibility="private")
    public = await post(client, alice, "For everyone #news")
    await drain(client)

    async def received(subscription: Any, count: int) -> list[tuple[str, str, str | None]]:
        out = []
        for _ in range(count):
            key, message = await asyncio.wait_for(subscription.queue.get(), timeout=10)
            out.append((key, message.event, await render(ctx, subscription, message)))
        return out

    await received(follower, 4)  # the two new posts: both at home, the public one on public and #news too
    await received(anonymous, 1)
    for p in (private, public):
        assert (await client.delete(f"/api/v1/statuses/{p['id']}", headers=alice.headers)).status_code == 200
        await drain(client)
    heard = await received(follower, 6)
    keys = {f"user:{bob.id}", "public", "hashtag:news"}
    assert {(k, payload) for k, event, payload in heard if event == "delete"} == {
        (k, p["id"]) for k in keys for p in (private, public)}
    heard_anonymously = await received(anonymous, 1)
    assert heard_anonymously == [("public", "delete", public["id"])]
    assert anonymous.queue.empty()


async def test_idempotency_keys_redeem_once(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    too_long = await client.post("/api/v1/statuses", headers={**alice.headers, "Idempotency-Key": "k" * 256},
                                 data={"status": "hello"})
    assert too_long.status_code == 422 and "Idempotency-Key" in too_long.json()["error"]
    longest = {**alice.headers, "Idempotency-Key": "k" * 255}
    first = await client.post("/api/v1/statuses", headers=longest, data={"status": "hello"})
    again = await client.post("/api/v1/statuses", headers=longest, data={"status": "hello"})
    assert first.status_code == again.status_code == 200 and first.json()["id"] == again.json()["id"]

    headers = {**alice.headers, "Idempotency-Key": "concurrent-retry"}
    answers = await asyncio.gather(*(client.post("/api/v1/statuses", headers=headers, data={"status": "once"})
                                     for _ in range(8)))
    assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    await drain(client)
    mine = ids(await client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=alice.headers))
    assert len(mine) == 2
