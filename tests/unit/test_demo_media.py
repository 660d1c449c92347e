"""The demo's photos and videos: drawn the same way from the same seed, in the shapes and formats a feed
needs, and posted through the real upload path so that what is served is what an upload produces."""

from __future__ import annotations

import io
from pathlib import Path

import av
import httpx
import numpy as np
from PIL import Image
from sqlalchemy import func, select

from stoa.config import Settings
from stoa.core.context import Context
from stoa.demo import media
from stoa.demo.community import TOPICS
from stoa.social.statuses import Draft, post_status
from stoa.store.schema import jobs, media_attachments
from tests.helpers import sign_up

TINY_PORTRAIT = (72, 128)
TINY_LANDSCAPE = (128, 72)


def test_the_same_seed_draws_the_same_pictures_and_another_seed_others() -> None:
    def frame(seed: int, t: float) -> bytes:
        return media.Painter("ride", TINY_PORTRAIT, "Morning ride", seed).frame(t).tobytes()

    assert frame(7, 0.3) == frame(7, 0.3)
    assert frame(7, 0.3) != frame(8, 0.3)
    assert frame(7, 0.3) != frame(7, 0.6), "the scene moves"
    photo = media.Photo("sunset", "Harbour", TINY_LANDSCAPE)
    assert media.photo_bytes(photo, 7) == media.photo_bytes(photo, 7)


def test_every_scene_draws_in_both_orientations() -> None:
    for scene in media.SCENES:
        for size in (TINY_PORTRAIT, TINY_LANDSCAPE):
            picture = media.Painter(scene, size, "caption", 7).frame(0.5)
            assert picture.size == size and picture.mode == "RGB"
            assert np.asarray(picture).std() > 10, f"{scene} draws something, not a flat colour"


def test_the_catalogue_is_varied_and_goes_with_the_demo_hashtags() -> None:
    topics = {topic for language in TOPICS.values() for topic, _ in language}
    clips, photos = media.CLIPS, [p for post in media.PHOTO_POSTS for p in post.photos]
    assert {c.topic for c in clips} | {p.topic for p in media.PHOTO_POSTS} <= topics
    assert all(2 <= c.seconds <= 6 for c in clips)
    assert {c.size[0] < c.size[1] for c in clips} == {True, False}, "portrait and landscape clips"
    assert {p.size[0] < p.size[1] for p in photos} >= {True, False}, "portrait and landscape photos"
    assert 0 < sum(1 for c in clips if c.chord) < len(clips), "some clips have sound, some do not"
    assert any(len(post.photos) > 1 for post in media.PHOTO_POSTS), "a post with several photos"
    assert all(c.caption for c in clips) and all(p.caption for p in photos)


def test_a_clip_is_an_mp4_of_its_size_and_length_with_its_chord(tmp_path: Path) -> None:
    with_sound = media.Clip("music", "equalizer", "On repeat", TINY_PORTRAIT, 2.0, media.C_MAJOR)
    silent = media.Clip("viaggi", "train", "Il treno", TINY_LANDSCAPE, 2.0)
    for clip in (with_sound, silent):
        path = media.write_clip(clip, tmp_path / f"{clip.scene}.mp4", seed=7)
        with av.open(str(path)) as container:
            video = container.streams.video[0]
            assert (video.codec_context.width, video.codec_context.height) == clip.size
            assert video.codec_context.name == "h264"
            assert abs(float(video.duration * video.time_base) - clip.seconds) < 0.1
            assert bool(container.streams.audio) == bool(clip.chord)
            if clip.chord:
                sound = np.concatenate([f.to_ndarray()[0] for f in container.decode(audio=0)])
                assert np.abs(sound).max() > 0.05, "the chord is heard"


def test_a_photo_is_a_jpeg_of_its_size() -> None:
    image = Image.open(io.BytesIO(media.photo_bytes(media.Photo("trees", "Park", TINY_PORTRAIT), 7)))
    assert image.format == "JPEG" and image.size == TINY_PORTRAIT


TINY_CLIPS = (media.Clip("cycling", "ride", "Morning ride", TINY_PORTRAIT, 2.0, media.A_MAJOR),
              media.Clip("photography", "sunset", "Golden hour", TINY_LANDSCAPE, 2.0))
TINY_PHOTOS = (media.PhotoPost("photography", (media.Photo("sunset", "Harbour at dusk", TINY_PORTRAIT),
                                               media.Photo("trees", "The park", TINY_LANDSCAPE))),)

TOPIC_OF = {**{c.caption: c.topic for c in TINY_CLIPS},
            **{p.caption: post.topic for post in TINY_PHOTOS for p in post.photos}}


async def test_the_demo_posts_carry_processed_media(client: httpx.AsyncClient, settings: Settings) -> None:
    store = client.app.state.store  # type: ignore[attr-defined]
    ctx = Context(store, settings)
    alice, bruno = await sign_up(client, "alice"), await sign_up(client, "bruno")
    # Posted by the domain action, as the demo writes its posts: nothing has served them yet.
    for who, text in ((alice, "Rode along the river #cycling"), (bruno, "The harbour at dusk #photography"),
                      (alice, "More from the harbour #photography"), (bruno, "Just words #coffee")):
        await post_status(ctx, int(who.id), Draft(text))
    stages: list[tuple[str, int, int]] = []
    counts = await media.add_demo_media(ctx, progress=lambda *stage: stages.append(stage),
                                        clips=TINY_CLIPS, photo_posts=TINY_PHOTOS)
    assert counts == {"videos": 2, "photos": 2, "media_failed": 0}
    assert stages[-1] == ("photos and videos", 3, 3)
    async with store.db.read() as conn:
        assert (await conn.execute(select(func.count()).select_from(jobs))).scalar_one() == 0
        rows = (await conn.execute(select(media_attachments))).all()
    assert {r.state for r in rows} == {"ready"} and all(r.status_id is not None for r in rows)

    # As any client sees them: videos as H.264/AAC MP4 with a poster, photos re-encoded with a blurhash.
    for row in rows:
        status = (await client.get(f"/api/v1/statuses/{row.status_id}")).json()
        (shown,) = [m for m in status["media_attachments"] if m["id"] == str(row.id)]
        assert shown["description"] and shown["blurhash"] and shown["preview_url"]
        assert f"/tags/{TOPIC_OF[shown['description']]}\"" in status["content"], "media matches its hashtag"
        body = (await client.get(shown["url"])).content
        if shown["type"] == "video":
            path = Path(settings.data_dir) / "check.mp4"
            path.write_bytes(body)
            with av.open(str(path)) as container:
                assert container.streams.video[0].codec_context.name == "h264"
                audio = [s.codec_context.name for s in container.streams.audio]
            assert audio == (["aac"] if shown["description"] == "Morning ride" else [])
            assert shown["meta"]["duration"] > 1.9
        else:
            assert shown["type"] == "image" and Image.open(io.BytesIO(body)).format == "JPEG"
