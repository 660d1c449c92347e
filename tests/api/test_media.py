"""Images on posts: upload, describe, attach, fetch (with Range), and every bad upload refused cleanly."""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image

from stoa.config import Settings
from tests.helpers import AppClient, sign_up, upload
from tests.media_samples import jpeg_with_gps


async def test_upload_describe_attach_and_fetch(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    uploaded = await upload(client, alice.headers, jpeg_with_gps(), description="A green field", focus="0.5,-0.25")
    assert uploaded.status_code == 200, uploaded.text
    media = uploaded.json()
    assert media["type"] == "image" and media["blurhash"] and media["description"] == "A green field"
    assert media["meta"]["original"]["width"] == 1920 and media["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    changed = await client.put(f"/api/v1/media/{media['id']}", headers=alice.headers, data={"description": "Field"})
    assert changed.json()["description"] == "Field"

    post = await client.post("/api/v1/statuses", headers=alice.headers, data={"media_ids[]": media["id"]})
    assert post.status_code == 200, post.text  # no text needed with an image
    attached = post.json()["media_attachments"]
    assert [m["id"] for m in attached] == [media["id"]]
    seen = (await client.get(f"/api/v1/statuses/{post.json()['id']}")).json()
    assert seen["media_attachments"][0]["preview_url"].startswith("http://127.0.0.1:8000/media/previews/")

    path = attached[0]["url"].replace("http://127.0.0.1:8000", "")
    assert "signature=" not in path  # a public post's media is public (and cacheable forever)
    whole = await client.get(path)
    assert whole.status_code == 200 and whole.headers["content-type"] == "image/jpeg"
    served = Image.open(io.BytesIO(whole.content))
    assert not served.getexif()  # GPS and camera metadata are gone
    part = await client.get(path, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100 and part.content == whole.content[:100]

    again = await client.post("/api/v1/statuses", headers=alice.headers,
                              data={"status": "reuse", "media_ids[]": media["id"]})
    assert again.status_code == 422  # an attachment belongs to one post
    locked = await client.put(f"/api/v1/media/{media['id']}", headers=alice.headers, data={"description": "x"})
    assert locked.status_code == 422


async def test_bad_uploads_are_refused_and_leave_nothing(client: AppClient, settings: Settings) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    media_root = Path(settings.media_root)

    def stored() -> int:
        return sum(1 for p in media_root.rglob("*") if p.is_file())

    before = stored()
    truncated = jpeg_with_gps()[:2000]
    text_file = b"just some text, not a picture"
    for data, status in [(b"", 422), (truncated, 422), (text_file, 422)]:
        response = await upload(client, alice.headers, data)
        assert response.status_code == status, response.text
        assert "error" in response.json()
    missing = await client.post("/api/v2/media", headers=alice.headers, data={"description": "no file"})
    assert missing.status_code == 400
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, "PNG")  # tiny file, 400 million pixels
    assert (await upload(client, alice.headers, bomb.getvalue(), "bomb.png")).status_code == 422
    assert stored() == before
    assert not list((Path(settings.data_dir) / "tmp").glob("*"))  # no spooled upload left behind

    theirs = (await upload(client, bob.headers, jpeg_with_gps((300, 200)))).json()
    stolen = await client.post("/api/v1/statuses", headers=alice.headers, data={"media_ids[]": theirs["id"]})
    assert stolen.status_code == 422
    assert (await client.get(f"/api/v1/media/{theirs['id']}", headers=alice.headers)).status_code == 404
    five = [(await upload(client, alice.headers, jpeg_with_gps((100 + i, 100)))).json()["id"] for i in range(5)]
    too_many = await client.post("/api/v1/statuses", headers=alice.headers, data={"media_ids[]": five})
    assert too_many.status_code == 422
    assert (await client.get(f"/api/v1/accounts/{alice.id}")).json()["statuses_count"] == 0


async def test_oversize_upload_is_413(client: AppClient, settings: Settings) -> None:
    alice = await sign_up(client, "alice")
    big = jpeg_with_gps((200, 200)) + b"\x00" * (settings.max_image_bytes + 10)  # a JPEG, padded past the limit
    response = await upload(client, alice.headers, big)
    assert response.status_code == 413 and "Image is larger than 10 MB" in response.json()["error"]


async def test_image_bombs_are_refused_as_images_with_too_many_pixels(client: AppClient) -> None:
    """A tiny file that decodes to a huge picture: 422, and the words say image, pixels and the limit."""
    from stoa.media.images import MAX_PIXELS

    alice = await sign_up(client, "alice")
    for mode, size, kind in [("1", (20000, 20000), "PNG"),  # 400 Mpx: Pillow itself calls it a bomb
                             ("1", (8000, 6000), "PNG"),  # 48 Mpx: over Stoa's limit, under Pillow's
                             ("L", (9000, 5000), "JPEG")]:
        bomb = io.BytesIO()
        Image.new(mode, size).save(bomb, kind)
        response = await upload(client, alice.headers, bomb.getvalue(), f"bomb.{kind.lower()}")
        assert response.status_code == 422, response.text
        message = response.json()["error"]
        assert "image" in message.lower() and "pixels" in message and f"{MAX_PIXELS:,}" in message, message
        assert "video" not in message.lower(), message
    header_only = io.BytesIO()  # past the image byte limit too: still an image, said as such
    Image.new("1", (20000, 20000)).save(header_only, "PNG")
    padded = header_only.getvalue() + b"\x00" * (10 * 1024 * 1024)
    response = await upload(client, alice.headers, padded, "bomb.png")
    assert response.status_code in (413, 422), response.text
    assert "image" in response.json()["error"].lower() and "video" not in response.json()["error"].lower()
