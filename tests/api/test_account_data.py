"""A person downloads everything Stoa holds about them, or erases their account — both logged."""

from __future__ import annotations

import io
import zipfile

import orjson
from PIL import Image

from tests.helpers import AppClient, drain, register_app, sign_up


async def test_export_contains_everything_and_is_logged(client: AppClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    image = io.BytesIO()
    Image.new("RGB", (64, 64), (0, 90, 200)).save(image, "PNG")
    await client.patch("/api/v1/accounts/update_credentials", headers=alice.headers,
                       files={"avatar": ("a.png", image.getvalue(), "image/png")}, data={"note": "hi"})
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    theirs = (await client.post("/api/v1/statuses", headers=bob.headers, data={"status": "bob's post"})).json()
    await client.post(f"/api/v1/statuses/{theirs['id']}/bookmark", headers=alice.headers)
    await client.post(f"/api/v1/statuses/{theirs['id']}/favourite", headers=alice.headers)
    photo = io.BytesIO()
    Image.new("RGB", (300, 200), (200, 90, 0)).save(photo, "JPEG")
    uploaded = (await client.post("/api/v2/media", headers=alice.headers,
                                  files={"file": ("p.jpg", photo.getvalue(), "image/jpeg")})).json()
    mine = (await client.post("/api/v1/statuses", headers=alice.headers,
                              data={"status": "a secret", "visibility": "direct",
                                    "media_ids[]": uploaded["id"]})).json()
    await client.put(f"/api/v1/statuses/{mine['id']}", headers=alice.headers, data={"status": "a secret, edited"})
    await client.post("/api/v1/stoa/feeds/views", headers=alice.headers,
                      data={"status_id": theirs["id"], "watched_ms": "4000"})
    await drain(client)

    response = await client.post("/api/v1/stoa/account/export", headers=alice.headers,
                                 data={"password": "correct horse battery"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    manifest = orjson.loads(archive.read("manifest.json"))
    assert manifest["format"] == "stoa-export-v1" and "media/avatar.jpg" in manifest["files"]
    account = orjson.loads(archive.read("account.json"))
    assert account["email"] == "alice@example.org" and account["note"] == "hi"
    posts = orjson.loads(archive.read("statuses.json"))
    assert [p["text"] for p in posts] == ["a secret, edited"]
    assert [h["text"] for h in posts[0]["history"]] == ["a secret", "a secret, edited"]
    assert [f["username"] for f in orjson.loads(archive.read("following.json"))] == ["bob"]
    assert [b["status_id"] for b in orjson.loads(archive.read("bookmarks.json"))] == [theirs["id"]]
    assert [f["status_id"] for f in orjson.loads(archive.read("favourites.json"))] == [theirs["id"]]
    assert [(v["status_id"], v["watched_ms"]) for v in orjson.loads(archive.read("views.json"))] == [
        (theirs["id"], 4000)]
    assert Image.open(io.BytesIO(archive.read("media/avatar.jpg"))).size == (400, 400)
    assert [m["status_id"] for m in orjson.loads(archive.read("media_attachments.json"))] == [mine["id"]]
    assert Image.open(io.BytesIO(archive.read(f"media/attachments/{uploaded['id']}.jpg"))).size == (300, 200)
    logged = orjson.loads(archive.read("transparency.json"))
    assert [e["action"] for e in logged] == ["account.export"]
    mine_log = (await client.get("/api/v1/stoa/transparency/mine", headers=alice.headers)).json()
    assert [e["entry"]["action"] for e in mine_log] == ["account.export"]
    assert (await client.post("/api/v1/stoa/account/export")).status_code == 401


async def test_erasure_purges_private_data_and_keeps_counts_right(client: AppClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    await client.post(f"/api/v1/accounts/{bob.id}/follow", headers=alice.headers)
    photo = io.BytesIO()
    Image.new("RGB", (300, 200), (20, 90, 200)).save(photo, "JPEG")
    uploaded = (await client.post("/api/v2/media", headers=alice.headers,
                                  files={"file": ("p.jpg", photo.getvalue(), "image/jpeg")})).json()
    hers = (await client.post("/api/v1/statuses", headers=alice.headers,
                              data={"status": "hello @bob", "media_ids[]": uploaded["id"]})).json()
    her_photo = hers["media_attachments"][0]["url"].replace("http://127.0.0.1:8000", "")
    assert (await client.get(her_photo)).status_code == 200
    his = (await client.post("/api/v1/statuses", headers=bob.headers, data={"status": "bob speaks"})).json()
    await client.post(f"/api/v1/statuses/{his['id']}/favourite", headers=alice.headers)
    await client.post(f"/api/v1/statuses/{his['id']}/reblog", headers=alice.headers)
    await client.post("/api/v1/statuses", headers=alice.headers, data={"status": "re", "in_reply_to_id": his["id"]})
    await drain(client)

    wrong = await client.post("/api/v1/stoa/account/erase", headers=alice.headers, data={"password": "nope"})
    assert wrong.status_code == 422
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).status_code == 200  # nothing happened
    missing = await client.post("/api/v1/stoa/account/erase", headers=alice.headers)
    assert missing.status_code == 400

    done = await client.post("/api/v1/stoa/account/erase", headers=alice.headers,
                             data={"password": "correct horse battery"})
    assert done.status_code == 200
    await drain(client)
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)).status_code == 401
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).status_code == 404
    assert (await client.get(f"/api/v1/statuses/{hers['id']}")).status_code == 404
    assert (await client.get(her_photo)).status_code == 404
    bob_view = (await client.get(f"/api/v1/accounts/{bob.id}")).json()
    assert (bob_view["followers_count"], bob_view["following_count"]) == (0, 0)
    his_now = (await client.get(f"/api/v1/statuses/{his['id']}")).json()
    assert (his_now["favourites_count"], his_now["reblogs_count"], his_now["replies_count"]) == (0, 0, 0)
    home = (await client.get("/api/v1/timelines/home", headers=bob.headers)).json()
    assert [s["id"] for s in home] == [his["id"]]
    assert (await client.get("/api/v1/notifications", headers=bob.headers)).json() == []

    from sqlalchemy import func, select, union_all

    from stoa.store.schema import (
        bookmarks,
        favourites,
        home_feed,
        markers,
        media_attachments,
        mutes,
        oauth_tokens,
        users,
    )

    db = client.db
    tables = (users, oauth_tokens, favourites, bookmarks, home_feed, markers, mutes, media_attachments)
    leftovers = union_all(*(select(func.count()).select_from(t).where(t.c.account_id == int(alice.id))
                            for t in tables))
    async with db.read() as conn:
        assert [r[0] for r in await conn.execute(leftovers)] == [0] * len(tables)
    settings = client.settings
    assert not (settings.media_root / her_photo.removeprefix("/media/")).exists()  # the file is gone too
    # The name stays taken, and the erasure is on the public record.
    app = await register_app(client)
    token = (await client.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "write",
                                                     "client_id": app["client_id"],
                                                     "client_secret": app["client_secret"]})).json()
    again = await client.post("/api/v1/accounts", headers={"Authorization": f"Bearer {token['access_token']}"},
                              data={"username": "alice", "email": "new@example.org",
                                    "password": "another password", "agreement": "true"})
    assert again.status_code == 422
    log = (await client.get("/api/v1/stoa/transparency/local/entries", params={"start": 0})).json()
    assert [e["entry"]["action"] for e in log] == ["account.erase"]
