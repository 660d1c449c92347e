"""What people do on Stoa, through the Mastodon API, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stoa.store.schema import mutes
from tests.helpers import AppClient, User, drain, post, sign_up


async def home_ids(client: AppClient, user: User, **params: str) -> list[str]:
    response = await client.get("/api/v1/timelines/home", headers=user.headers, params=params)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()]


async def test_follow_post_fanout_and_unfollow(client: AppClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    before = await post(client, alice, "Before the follow")
    r = await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    assert r.status_code == 200 and r.json()["following"] is True
    after = await post(client, alice, "Hello #Cycling friends")
    await drain(client)
    assert await home_ids(client, bob) == [after["id"], before["id"]]  # backfilled + fanned out
    assert after["tags"] == [{"name": "cycling", "url": "http://127.0.0.1:8000/tags/cycling"}]
    assert 'class="mention hashtag"' in after["content"]

    me = (await client.get(f"/api/v1/accounts/{alice.id}")).json()
    assert me["followers_count"] == 1 and me["statuses_count"] == 2
    followers = (await client.get(f"/api/v1/accounts/{alice.id}/followers")).json()
    assert [a["username"] for a in followers] == ["bob"]

    notes = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert [(n["type"], n["account"]["username"]) for n in notes] == [("follow", "bob")]

    await client.post(f"/api/v1/accounts/{alice.id}/unfollow", headers=bob.headers)
    await drain(client)
    assert await home_ids(client, bob) == []
    rel = (await client.get("/api/v1/accounts/relationships", headers=bob.headers,
                            params={"id[]": alice.id})).json()
    assert rel[0]["following"] is False


async def test_reply_boost_favourite_bookmark_pin(client: AppClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    original = await post(client, alice, "Original thought")
    reply = await post(client, bob, "@alice I agree", in_reply_to_id=original["id"])
    assert reply["in_reply_to_id"] == original["id"]
    assert reply["mentions"][0]["username"] == "alice"

    thread = (await client.get(f"/api/v1/statuses/{reply['id']}/context")).json()
    assert [s["id"] for s in thread["ancestors"]] == [original["id"]]
    thread = (await client.get(f"/api/v1/statuses/{original['id']}/context")).json()
    assert [s["id"] for s in thread["descendants"]] == [reply["id"]]

    boost = (await client.post(f"/api/v1/statuses/{original['id']}/reblog", headers=bob.headers)).json()
    assert boost["reblog"]["id"] == original["id"] and boost["reblogged"] is True
    again = (await client.post(f"/api/v1/statuses/{original['id']}/reblog", headers=bob.headers)).json()
    assert again["id"] == boost["id"]  # boosting twice is one boost
    fav = (await client.post(f"/api/v1/statuses/{original['id']}/favourite", headers=bob.headers)).json()
    assert fav["favourited"] is True and fav["favourites_count"] == 1
    await client.post(f"/api/v1/statuses/{original['id']}/favourite", headers=bob.headers)
    marked = (await client.post(f"/api/v1/statuses/{original['id']}/bookmark", headers=bob.headers)).json()
    assert marked["bookmarked"] is True
    await drain(client)

    seen = (await client.get(f"/api/v1/statuses/{original['id']}", headers=alice.headers)).json()
    assert (seen["replies_count"], seen["reblogs_count"], seen["favourites_count"]) == (1, 1, 1)
    types = sorted(n["type"] for n in (await client.get("/api/v1/notifications", headers=alice.headers)).json())
    assert types == ["favourite", "mention", "reblog"]  # bob's follow notified bob's side only
    only = (await client.get("/api/v1/notifications", headers=alice.headers, params={"types[]": "favourite"})).json()
    assert [n["type"] for n in only] == ["favourite"]
    fav_by = (await client.get(f"/api/v1/statuses/{original['id']}/favourited_by")).json()
    assert [a["username"] for a in fav_by] == ["bob"]
    boosted_by = (await client.get(f"/api/v1/statuses/{original['id']}/reblogged_by")).json()
    assert [a["username"] for a in boosted_by] == ["bob"]
    bookmarks = (await client.get("/api/v1/bookmarks", headers=bob.headers)).json()
    assert [s["id"] for s in bookmarks] == [original["id"]]
    favourites = (await client.get("/api/v1/favourites", headers=bob.headers)).json()
    assert [s["id"] for s in favourites] == [original["id"]]

    pinned = (await client.post(f"/api/v1/statuses/{original['id']}/pin", headers=alice.headers)).json()
    assert pinned["pinned"] is True
    pins = (await client.get(f"/api/v1/accounts/{alice.id}/statuses", params={"pinned": "true"})).json()
    assert [s["id"] for s in pins] == [original["id"]]

    # Undo everything: counts return to zero.
    await client.post(f"/api/v1/statuses/{original['id']}/unreblog", headers=bob.headers)
    await client.post(f"/api/v1/statuses/{original['id']}/unfavourite", headers=bob.headers)
    await client.post(f"/api/v1/statuses/{original['id']}/unbookmark", headers=bob.headers)
    seen = (await client.get(f"/api/v1/statuses/{original['id']}", headers=bob.headers)).json()
    assert (seen["reblogs_count"], seen["favourites_count"], seen["bookmarked"]) == (0, 0, False)


async def test_edit_history_and_delete(client: AppClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    status = await post(client, alice, "Frist post")
    edited = await client.put(f"/api/v1/statuses/{status['id']}", headers=alice.headers,
                              data={"status": "First post"})
    assert edited.status_code == 200 and edited.json()["edited_at"] is not None
    assert "First post" in edited.json()["content"]
    history = (await client.get(f"/api/v1/statuses/{status['id']}/history")).json()
    assert [("Frist" in h["content"], "First" in h["content"]) for h in history] == [(True, False), (False, True)]
    source = (await client.get(f"/api/v1/statuses/{status['id']}/source", headers=alice.headers)).json()
    assert source["text"] == "First post"
    forbidden = await client.put(f"/api/v1/statuses/{status['id']}", headers=bob.headers, data={"status": "x"})
    assert forbidden.status_code == 403
    await drain(client)
    assert await home_ids(client, bob) == [status["id"]]

    deleted = await client.delete(f"/api/v1/statuses/{status['id']}", headers=alice.headers)
    assert deleted.status_code == 200 and deleted.json()["text"] == "First post"
    await drain(client)
    assert (await client.get(f"/api/v1/statuses/{status['id']}")).status_code == 404
    assert await home_ids(client, bob) == []
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).json()["statuses_count"] == 0


async def test_visibility_rules(client: AppClient) -> None:
    alice, bob, carol = (await sign_up(client, "alice"), await sign_up(client, "bob"),
                         await sign_up(client, "carol"))
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    private = await post(client, alice, "Followers only", visibility="private")
    direct = await post(client, alice, "@carol just for you", visibility="direct")
    unlisted = await post(client, alice, "Quiet public", visibility="unlisted")
    await drain(client)

    for viewer, sid, expected in [(bob, private["id"], 200), (carol, private["id"], 404), (None, private["id"], 404),
                                  (carol, direct["id"], 200), (bob, direct["id"], 404), (None, unlisted["id"], 200)]:
        headers = viewer.headers if viewer else {}
        got = (await client.get(f"/api/v1/statuses/{sid}", headers=headers)).status_code
        assert got == expected, (viewer and viewer.username, sid, got)
    public_ids = [s["id"] for s in (await client.get("/api/v1/timelines/public")).json()]
    assert public_ids == []  # none of the three is on the public timeline
    assert direct["id"] in await home_ids(client, carol)
    assert set(await home_ids(client, bob)) == {private["id"], unlisted["id"]}
    boost = await client.post(f"/api/v1/statuses/{private['id']}/reblog", headers=bob.headers)
    assert boost.status_code == 422


async def test_block_and_mute(client: AppClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    await post(client, alice, "visible until muted")
    await drain(client)
    assert len(await home_ids(client, bob)) == 1
    muted = (await client.post(f"/api/v1/accounts/{alice.id}/mute", headers=bob.headers)).json()
    assert muted["muting"] is True
    await drain(client)
    assert await home_ids(client, bob) == []
    assert [a["username"] for a in (await client.get("/api/v1/mutes", headers=bob.headers)).json()] == ["alice"]
    await client.post(f"/api/v1/accounts/{alice.id}/unmute", headers=bob.headers)

    blocked = (await client.post(f"/api/v1/accounts/{bob.id}/block", headers=alice.headers)).json()
    assert blocked["blocking"] is True and blocked["followed_by"] is False
    refused = await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    assert refused.status_code == 403
    status = await post(client, alice, "bob cannot see this")
    assert (await client.get(f"/api/v1/statuses/{status['id']}", headers=bob.headers)).status_code == 404
    assert (await client.get(f"/api/v1/accounts/{alice.id}/statuses", headers=bob.headers)).json() == []


async def test_mutes_hide_posts_and_boosts_from_home_until_they_end(client: AppClient) -> None:
    alice, bob, carol = [await sign_up(client, n) for n in ("alice", "bob", "carol")]
    for followed in (alice, carol):
        await client.post(f"/api/v1/accounts/{followed.id}/follow", headers=bob.headers)
    own = await post(client, alice, "alice's own words")
    carols = await post(client, carol, "carol speaks")
    boost = (await client.post(f"/api/v1/statuses/{carols['id']}/reblog", headers=alice.headers)).json()
    await drain(client)
    assert set(await home_ids(client, bob)) == {own["id"], carols["id"], boost["id"]}

    await client.post(f"/api/v1/accounts/{carol.id}/mute", headers=bob.headers)
    assert await home_ids(client, bob) == [own["id"]]  # carol's post and alice's boost of it are gone
    assert (await client.get(f"/api/v1/statuses/{carols['id']}", headers=bob.headers)).status_code == 200

    muted_for_a_while = await client.post(f"/api/v1/accounts/{alice.id}/mute", headers=bob.headers,
                                          data={"duration": "3600"})
    assert muted_for_a_while.json()["muting"] is True
    assert await home_ids(client, bob) == []
    db = client.db
    async with db.write() as conn:  # the hour passes
        await conn.execute(mutes.update().where(mutes.c.target_account_id == int(alice.id))
                           .values(expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    assert await home_ids(client, bob) == [own["id"]]


async def test_public_and_tag_timelines_paginate(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    ids = [(await post(client, alice, f"post {i} #daily"))["id"] for i in range(7)]
    page1 = await client.get("/api/v1/timelines/public", params={"limit": 3})
    assert [s["id"] for s in page1.json()] == ids[::-1][:3]
    link = page1.headers["link"]
    assert 'rel="next"' in link and 'rel="prev"' in link
    next_url = link.split(";")[0].strip("<>")
    page2 = await client.get(next_url)
    assert [s["id"] for s in page2.json()] == ids[::-1][3:6]
    newer = await client.get("/api/v1/timelines/public", params={"min_id": ids[2], "limit": 2})
    assert [s["id"] for s in newer.json()] == [ids[4], ids[3]]  # the oldest two after min_id, newest first
    since = await client.get("/api/v1/timelines/public", params={"since_id": ids[4]})
    assert [s["id"] for s in since.json()] == [ids[6], ids[5]]
    tagged = await client.get("/api/v1/timelines/tag/Daily", params={"limit": 40})
    assert len(tagged.json()) == 7
    assert all(int(ids[i]) < int(ids[i + 1]) for i in range(6))  # ids sort by creation time


async def test_search_is_language_aware(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    await sign_up(client, "alberto")
    it = await post(client, alice, "Oggi sono andata in bicicletta sulle colline", language="it")
    en = await post(client, alice, "Cycling along the river this morning", language="en")
    fr = await post(client, alice, "Les étés à vélo dans la vallée", language="fr")
    await drain(client)

    async def found(q: str) -> list[str]:
        r = await client.get("/api/v2/search", headers=alice.headers, params={"q": q, "type": "statuses"})
        assert r.status_code == 200, r.text
        return [s["id"] for s in r.json()["statuses"]]

    assert await found("cycle") == [en["id"]]  # English stemming
    assert await found("collina") == [it["id"]]  # Italian stemming: colline ~ collina
    assert await found("ete velo") == [fr["id"]]  # accents folded
    assert await found("bicicletta river") == []  # every word must match
    accounts = (await client.get("/api/v2/search", params={"q": "al", "type": "accounts"})).json()["accounts"]
    assert {a["username"] for a in accounts} == {"alice", "alberto"}
    await post(client, alice, "#Ciclismo forever")
    tags = (await client.get("/api/v2/search", params={"q": "#cicl", "type": "hashtags"})).json()["hashtags"]
    assert [t["name"] for t in tags] == ["ciclismo"]
    await client.delete(f"/api/v1/statuses/{en['id']}", headers=alice.headers)
    await drain(client)
    assert await found("cycling") == []


async def test_idempotency_key_and_markers(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    headers = {**alice.headers, "Idempotency-Key": "abc-123"}
    first = await client.post("/api/v1/statuses", headers=headers, data={"status": "only once"})
    second = await client.post("/api/v1/statuses", headers=headers, data={"status": "only once"})
    assert first.json()["id"] == second.json()["id"]
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).json()["statuses_count"] == 1

    saved = await client.post("/api/v1/markers", headers=alice.headers,
                              data={"home[last_read_id]": first.json()["id"]})
    assert saved.status_code == 200 and saved.json()["home"]["last_read_id"] == first.json()["id"]
    again = await client.post("/api/v1/markers", headers=alice.headers, json={"home": {"last_read_id": "5"}})
    assert again.json()["home"]["version"] == 1
    got = (await client.get("/api/v1/markers", headers=alice.headers, params={"timeline[]": "home"})).json()
    assert got["home"]["last_read_id"] == "5"


async def test_profile_update_with_avatar(client: AppClient, tmp_path) -> None:
    import io

    from PIL import Image

    alice = await sign_up(client, "alice")
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = {2: (45.0, 27.0, 0.0)}  # GPS latitude
    Image.new("RGB", (800, 600), (200, 30, 30)).save(buffer, "JPEG", exif=exif)
    response = await client.patch("/api/v1/accounts/update_credentials", headers=alice.headers,
                                  data={"display_name": "Alice A.", "note": "I <3 bikes",
                                        "fields_attributes[0][name]": "site",
                                        "fields_attributes[0][value]": "https://example.org"},
                                  files={"avatar": ("me.jpg", buffer.getvalue(), "image/jpeg")})
    assert response.status_code == 200, response.text
    me = response.json()
    assert me["display_name"] == "Alice A." and me["note"] == "<p>I &lt;3 bikes</p>"
    assert me["fields"][0]["name"] == "site"
    avatar = await client.get(me["avatar"].replace("http://127.0.0.1:8000", ""))
    assert avatar.status_code == 200
    served = Image.open(io.BytesIO(avatar.content))
    assert served.size == (400, 400)
    assert not served.getexif()  # metadata, GPS included, is gone


async def test_locked_account_approves_followers(client: AppClient) -> None:
    alice, bob, carol = await sign_up(client, "alice"), await sign_up(client, "bob"), await sign_up(client, "carol")
    locked = await client.patch("/api/v1/accounts/update_credentials", headers=alice.headers, data={"locked": "true"})
    assert locked.json()["locked"] is True
    secret = await post(client, alice, "only for approved followers", visibility="private")

    pending = (await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)).json()
    assert pending["following"] is False and pending["requested"] is True
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=carol.headers)
    await drain(client)
    assert (await client.get(f"/api/v1/statuses/{secret['id']}", headers=bob.headers)).status_code == 404
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)).json()
    assert me["source"]["follow_requests_count"] == 2
    requests = (await client.get("/api/v1/follow_requests", headers=alice.headers)).json()
    assert {a["username"] for a in requests} == {"bob", "carol"}
    notes = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert sorted(n["type"] for n in notes) == ["follow_request", "follow_request"]

    accepted = (await client.post(f"/api/v1/follow_requests/{bob.id}/authorize", headers=alice.headers)).json()
    assert accepted["followed_by"] is True
    rejected = (await client.post(f"/api/v1/follow_requests/{carol.id}/reject", headers=alice.headers)).json()
    assert rejected["followed_by"] is False and rejected["requested_by"] is False
    again = await client.post(f"/api/v1/follow_requests/{carol.id}/authorize", headers=alice.headers)
    assert again.status_code == 404
    await drain(client)
    assert (await client.get(f"/api/v1/statuses/{secret['id']}", headers=bob.headers)).status_code == 200
    assert secret["id"] in await home_ids(client, bob)
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).json()["followers_count"] == 1
    notes = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert [n["type"] for n in notes] == ["follow"]  # the accepted request became a follow; the rejected one went


async def test_notifications_get_dismiss_clear(client: AppClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    mention = await post(client, bob, "@alice look", spoiler_text="spoilers!")
    assert mention["spoiler_text"] == "spoilers!" and mention["sensitive"] is True  # a content warning hides it
    await drain(client)
    notes = (await client.get("/api/v1/notifications", headers=alice.headers)).json()
    assert [n["type"] for n in notes] == ["mention", "follow"]
    one = await client.get(f"/api/v1/notifications/{notes[0]['id']}", headers=alice.headers)
    assert one.status_code == 200 and one.json()["status"]["id"] == mention["id"]
    assert (await client.get(f"/api/v1/notifications/{notes[0]['id']}", headers=bob.headers)).status_code == 404
    excluded = (await client.get("/api/v1/notifications", headers=alice.headers,
                                 params={"exclude_types[]": "mention"})).json()
    assert [n["type"] for n in excluded] == ["follow"]
    assert (await client.post(f"/api/v1/notifications/{notes[0]['id']}/dismiss",
                              headers=alice.headers)).status_code == 200
    assert [n["type"] for n in (await client.get("/api/v1/notifications", headers=alice.headers)).json()] == [
        "follow"]
    assert (await client.post("/api/v1/notifications/clear", headers=alice.headers)).status_code == 200
    assert (await client.get("/api/v1/notifications", headers=alice.headers)).json() == []


async def test_instance_and_lookup(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    await post(client, alice, "counted")
    v1 = (await client.get("/api/v1/instance")).json()
    assert v1["version"].startswith("4.3.0") and v1["stats"]["user_count"] == 1
    assert v1["stats"]["status_count"] == 1 and v1["urls"]["streaming_api"].startswith("ws")
    v2 = (await client.get("/api/v2/instance")).json()
    assert v2["configuration"]["statuses"]["max_characters"] == 500 and v2["stoa"]["regions"] == ["local"]
    assert (await client.get("/api/v1/custom_emojis")).json() == []
    found = (await client.get("/api/v1/accounts/lookup", params={"acct": "@alice@127.0.0.1:8000"})).json()
    assert found["id"] == alice.id and found["stoa"]["region"] == "local"
    assert (await client.get("/api/v1/accounts/lookup", params={"acct": "alice@elsewhere.org"})).status_code == 404


async def test_passwords_are_stored_as_argon2id(client: AppClient) -> None:
    from sqlalchemy import select

    from stoa.store.schema import users

    await sign_up(client, "alice", password="a very secret password")
    db = client.db
    async with db.read() as conn:
        stored = (await conn.execute(select(users.c.password_hash))).scalar_one()
    assert stored.startswith("$argon2id$") and "a very secret password" not in stored


async def test_posting_defaults_round_trip(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    await client.patch("/api/v1/accounts/update_credentials", headers=alice.headers,
                       data={"source[privacy]": "unlisted", "source[language]": "it"})
    prefs = (await client.get("/api/v1/preferences", headers=alice.headers)).json()
    assert prefs["posting:default:visibility"] == "unlisted" and prefs["posting:default:language"] == "it"
    status = await post(client, alice, "senza visibilità esplicita")
    assert status["visibility"] == "unlisted" and status["language"] == "it"
    assert (await client.get("/api/v1/preferences")).status_code == 401
