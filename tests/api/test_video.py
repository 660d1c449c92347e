"""Video and animated GIF: upload (202), durable processing, attach, play (Range), and every bad file refused."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
from sqlalchemy import select, update

from stoa.config import Settings
from stoa.store.schema import jobs as jobs_table
from stoa.store.schema import media_attachments
from tests.helpers import AppClient, media_jobs, run_jobs, sign_up, stored_files, upload
from tests.media_samples import GPS, jpeg_with_gps, make_gif, make_video

BASE = "http://127.0.0.1:8000"


async def test_phone_video_is_processed_attached_and_plays(client: AppClient, settings: Settings,
                                                           tmp_path: Path) -> None:
    alice = await sign_up(client, "alice")
    # A portrait phone clip: landscape pixels with a rotation flag, GPS position and device in its metadata.
    clip = make_video(tmp_path / "phone.mov", seconds=1.5, width=640, height=360, rotation=90, location=True,
                      container="mov").read_bytes()
    accepted = await upload(client, alice.headers, clip, "phone.mov", "video/quicktime")
    assert accepted.status_code == 202, accepted.text
    media = accepted.json()
    assert media["type"] == "video" and media["url"] is None and media["preview_url"] is None

    pending = await client.get(f"/api/v1/media/{media['id']}", headers=alice.headers)
    assert pending.status_code == 206
    early = await client.post("/api/v1/statuses", headers=alice.headers, data={"media_ids[]": media["id"]})
    assert early.status_code == 422 and "processing" in early.json()["error"]

    assert await run_jobs(client, settings) == 1
    ready = await client.get(f"/api/v1/media/{media['id']}", headers=alice.headers)
    assert ready.status_code == 200
    meta = ready.json()["meta"]
    assert (meta["original"]["width"], meta["original"]["height"]) == (360, 640)  # upright
    assert 1.4 <= meta["original"]["duration"] <= 1.6 and meta["original"]["frame_rate"] == "30/1"
    assert ready.json()["blurhash"]

    post = await client.post("/api/v1/statuses", headers=alice.headers,
                             data={"status": "look", "media_ids[]": media["id"]})
    assert post.status_code == 200, post.text
    video_url = post.json()["media_attachments"][0]["url"].replace(BASE, "")
    assert video_url.endswith(".mp4") and "signature" not in video_url
    whole = await client.get(video_url)
    assert whole.status_code == 200 and whole.headers["content-type"] == "video/mp4"
    assert "immutable" in whole.headers["cache-control"]
    body = whole.content
    assert body.find(b"moov") < body.find(b"mdat")  # index first: plays while downloading
    assert GPS.encode() not in body and b"iPhone" not in body  # metadata stripped
    part = await client.get(video_url, headers={"Range": "bytes=1000-1999"})
    assert part.status_code == 206 and part.content == body[1000:2000]
    assert part.headers["content-range"] == f"bytes 1000-1999/{len(body)}"

    with av.open(io.BytesIO(body)) as served:
        assert served.streams.video[0].codec_context.name == "h264"
        assert served.streams.audio[0].codec_context.name == "aac"
        assert not {k for k in served.metadata if "location" in k or "model" in k}
        first = next(served.decode(video=0)).to_ndarray(format="rgb24")
    # The stored picture was red left, blue right, turned a quarter counter-clockwise to display: blue on top.
    top, bottom = first[20, first.shape[1] // 2], first[-20, first.shape[1] // 2]
    assert top[2] > 150 and top[0] < 100 and bottom[0] > 150 and bottom[2] < 100
    preview = await client.get(post.json()["media_attachments"][0]["preview_url"].replace(BASE, ""))
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/jpeg"
    assert not [p for p in stored_files(settings) if "incoming" in p.parts]  # the raw upload is gone


async def test_codecs_and_containers(client: AppClient, settings: Settings, tmp_path: Path) -> None:
    alice = await sign_up(client, "alice")
    samples = [("hevc.mp4", "libx265", None), ("vp9.webm", "libvpx-vp9", "webm"), ("av1.mp4", "libsvtav1", None)]
    ids = []
    for name, codec, container in samples:
        path = make_video(tmp_path / name, seconds=0.5, width=320, height=240, codec=codec, container=container,
                          audio=container != "webm")
        response = await upload(client, alice.headers, path.read_bytes(), name, "video/mp4")
        assert response.status_code == 202, (name, response.text)
        ids.append(response.json()["id"])
    assert await run_jobs(client, settings) == len(samples)
    for media_id in ids:
        ready = await client.get(f"/api/v1/media/{media_id}", headers=alice.headers)
        assert ready.status_code == 200 and ready.json()["url"].split("?")[0].endswith(".mp4"), ready.text


async def test_animated_gif_becomes_a_looping_video(client: AppClient, settings: Settings) -> None:
    alice = await sign_up(client, "alice")
    accepted = await upload(client, alice.headers, make_gif(frames=8), "party.gif", "image/gif")
    assert accepted.status_code == 202 and accepted.json()["type"] == "gifv"
    await run_jobs(client, settings)
    ready = (await client.get(f"/api/v1/media/{accepted.json()['id']}", headers=alice.headers)).json()
    assert ready["type"] == "gifv" and ready["meta"]["original"]["width"] == 80
    assert ready["meta"]["original"]["duration"] >= 0.7  # eight frames of 100 ms


async def test_same_video_twice_is_processed_and_stored_once(client: AppClient, settings: Settings,
                                                             tmp_path: Path) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    clip = make_video(tmp_path / "clip.mp4", seconds=0.5).read_bytes()
    first = (await upload(client, alice.headers, clip, "clip.mp4", "video/mp4")).json()
    await run_jobs(client, settings)
    files = len(stored_files(settings))
    again = await upload(client, bob.headers, clip, "again.mp4", "video/mp4")
    assert again.status_code == 200  # already transcoded: ready at once
    assert await run_jobs(client, settings) == 0
    assert len(stored_files(settings)) == files
    mine = (await client.get(f"/api/v1/media/{first['id']}", headers=alice.headers)).json()
    assert again.json()["url"].split("?")[0] == mine["url"].split("?")[0]


async def test_bad_videos_are_refused_and_leave_nothing(client: AppClient, settings: Settings,
                                                        tmp_path: Path) -> None:
    alice = await sign_up(client, "alice")
    before = stored_files(settings)
    clip = make_video(tmp_path / "ok.mp4", seconds=2.0).read_bytes()
    audio_only = io.BytesIO()
    with av.open(audio_only, "w", format="mp4") as out:
        out.add_stream("aac", rate=48000)
    cases = [
        (clip[: len(clip) // 3], "cut.mp4", "damaged"),
        (b"PK\x03\x04" + b"\x00" * 5000, "holiday.mp4", "not a video"),  # a zip file named .mp4
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 300, "empty.mp4", None),
        (audio_only.getvalue(), "voice.mp4", None),
    ]
    for data, name, words in cases:
        response = await upload(client, alice.headers, data, name, "video/mp4")
        assert response.status_code == 422, (name, response.text)
        if words:
            assert words in response.json()["error"], response.json()
    settings.max_video_seconds = 1.0
    too_long = await upload(client, alice.headers, clip, "long.mp4", "video/mp4")
    assert too_long.status_code == 422 and "limit is 1 s" in too_long.json()["error"]
    settings.max_video_seconds, settings.max_video_bytes = 180.0, 20_000
    too_big = await upload(client, alice.headers, clip, "big.mp4", "video/mp4")
    assert too_big.status_code == 413
    assert stored_files(settings) == before
    assert not list((Path(settings.data_dir) / "tmp").glob("*"))


async def test_a_crashed_job_is_retried_then_given_up(client: AppClient, settings: Settings,
                                                      tmp_path: Path) -> None:
    alice = await sign_up(client, "alice")
    clip = make_video(tmp_path / "clip.mp4", seconds=0.5).read_bytes()
    media_id = int((await upload(client, alice.headers, clip, "clip.mp4", "video/mp4")).json()["id"])
    now = datetime.now(UTC)
    runner = media_jobs(client, settings, clock=lambda: now)
    db = client.db
    claimed = await runner.claim()
    assert claimed is not None and claimed.attempts == 1
    assert await runner.claim() is None  # held by its (now dead) worker until the lease runs out
    now += timedelta(seconds=settings.media_job_lease_seconds + 1)  # the worker died: its lease lapses
    retried = await runner.claim()
    assert retried is not None and retried.attempts == 2
    await runner.run(retried)
    assert (await client.get(f"/api/v1/media/{media_id}", headers=alice.headers)).status_code == 200

    poison = int((await upload(client, alice.headers, make_video(tmp_path / "p.mp4", seconds=0.6).read_bytes(),
                                "p.mp4", "video/mp4")).json()["id"])
    async with db.write() as conn:  # it crashed its worker every time
        await conn.execute(update(jobs_table).where(jobs_table.c.dedupe_key == f"media:{poison}")
                           .values(attempts=settings.media_job_attempts))
    await run_jobs(client, settings)
    failed = await client.get(f"/api/v1/media/{poison}", headers=alice.headers)
    assert failed.status_code == 422 and "failed repeatedly" in failed.json()["error"]
    async with db.read() as conn:
        row = (await conn.execute(select(media_attachments).where(media_attachments.c.id == poison))).one()
    assert row.state == "failed" and row.source is None


async def test_media_follows_the_posts_visibility(client: AppClient, settings: Settings) -> None:

    alice = await sign_up(client, "alice")
    unattached = (await upload(client, alice.headers, jpeg_with_gps((300, 200)))).json()
    signed = unattached["url"].replace(BASE, "")
    plain = signed.split("?")[0]
    assert "signature=" in signed
    assert (await client.get(plain)).status_code == 404  # not yet public
    assert (await client.get(signed)).status_code == 200  # its owner's client can show it
    assert (await client.get(signed[:-3] + "AAA")).status_code == 404  # a forged signature
    expired = plain + "?expires=1000&" + signed.split("&", 1)[1]  # the same media id and signature, but old
    assert (await client.get(expired)).status_code == 404
    other = signed.replace(f"media={unattached['id']}", "media=1")  # its signature names another attachment
    assert (await client.get(other)).status_code == 404

    private = (await client.post("/api/v1/statuses", headers=alice.headers, data={
        "status": "friends only", "visibility": "private", "media_ids[]": unattached["id"]})).json()
    private_url = private["media_attachments"][0]["url"].replace(BASE, "")
    assert "signature=" in private_url and (await client.get(private_url)).status_code == 200
    assert (await client.get(private_url.split("?")[0])).status_code == 404
    assert (await client.get(private_url)).headers["cache-control"].startswith("private")

    public_media = (await upload(client, alice.headers, jpeg_with_gps((310, 200)))).json()
    public = (await client.post("/api/v1/statuses", headers=alice.headers, data={
        "status": "hello all", "media_ids[]": public_media["id"]})).json()
    public_url = public["media_attachments"][0]["url"].replace(BASE, "")
    assert (await client.get(public_url)).status_code == 200
    await client.delete(f"/api/v1/statuses/{public['id']}", headers=alice.headers)
    assert (await client.get(public_url)).status_code == 404  # deleted with its post
    for probe in ("/media/incoming/00/00/" + "0" * 64 + ".upload", "/media/../stoa.sqlite3", "/media/media/x"):
        assert (await client.get(probe)).status_code == 404
