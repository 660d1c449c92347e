"""The demo community's photos and short videos, drawn at load time (Pillow, PyAV) and posted the real way.

Every clip and photo is a little animated scene (gradients, moving shapes; a clip shows its hashtag as a
sticker) that goes with a demo hashtag: a bicycle for #cycling, an equaliser for #music, a sunset for
#photography... Each has a caption (its alt text); some clips carry a chord as their sound. They are
made deterministically from a seed, written as an ordinary upload would be (a phone's MP4, a camera's
JPEG), and go through the same path as a person's upload (:func:`stoa.media.attachments.upload`):
photos are re-encoded with a blurhash in the call, videos are transcoded by the media job
(:mod:`stoa.media.jobs`), run here to completion, two at a time, so that the server starts with every
demo video ready. Then each upload is attached to a demo post with its hashtag, one of the most liked
of the last two days (:func:`stoa.media.attachments.attach`, the check a new post's attachments pass).
"""

from __future__ import annotations

import asyncio
import io
import math
import random
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import and_, exists, select

from stoa.core.context import Context
from stoa.feeds import trending
from stoa.media import attachments
from stoa.media import jobs as media_jobs
from stoa.media.storage import storage_for
from stoa.store.ids import id_for_time
from stoa.store.jobs import JobRunner, Registry
from stoa.store.schema import media_attachments, status_tags, statuses, tags

Progress = Callable[[str, int, int], None]
Color = tuple[int, int, int]
FPS = 24
AUDIO_RATE = 48_000
TRANSCODERS = 2  # transcodes at once while the demo loads (each fills a core)
PORTRAIT = (540, 960)  # 9:16, served as is (the transcoder keeps up to 720 lines)
LANDSCAPE = (960, 540)
SQUARE = (1080, 1080)
SUN = (255, 196, 70)
RECENT_CANDIDATES = 40  # newest posts of a hashtag looked at for the one to illustrate

# Chords (Hz) for clips with sound.
A_MAJOR = (220.0, 277.18, 329.63)
C_MAJOR = (261.63, 329.63, 392.0)
D_MINOR = (293.66, 349.23, 440.0)


@dataclass(frozen=True)
class Clip:
    """A short video for posts with ``topic``: ``scene`` drawn for ``seconds``, with ``chord`` as its sound."""

    topic: str
    scene: str
    caption: str
    size: tuple[int, int]
    seconds: float
    chord: tuple[float, ...] = ()


@dataclass(frozen=True)
class Photo:
    scene: str
    caption: str
    size: tuple[int, int]


@dataclass(frozen=True)
class PhotoPost:
    """Up to four photos for one post with ``topic``."""

    topic: str
    photos: tuple[Photo, ...]


CLIPS = (
    Clip("cycling", "ride", "Morning ride along the river", PORTRAIT, 4.0, A_MAJOR),
    Clip("music", "equalizer", "This album, on repeat all week", PORTRAIT, 4.0, C_MAJOR),
    Clip("photography", "sunset", "Golden hour over the old harbour", LANDSCAPE, 5.0),
    Clip("football", "ball", "Ninety minutes of pure tension", LANDSCAPE, 3.0, D_MINOR),
    Clip("ciclismo", "ride", "In bici sulle colline", LANDSCAPE, 4.0),
    Clip("musica", "equalizer", "Questo disco, ancora una volta", PORTRAIT, 3.0, D_MINOR),
    Clip("viaggi", "train", "Il treno per Napoli, in ritardo come sempre", LANDSCAPE, 5.0),
    Clip("cucina", "bubbles", "La ricetta della nonna, a fuoco lento", PORTRAIT, 4.0),
    Clip("vélo", "ride", "Le long de la Loire au petit matin", PORTRAIT, 5.0, C_MAJOR),
    Clip("musique", "equalizer", "Le concert, et encore un rappel", PORTRAIT, 4.0, A_MAJOR),
    Clip("cinéma", "countdown", "Séance du soir", LANDSCAPE, 3.0),
    Clip("coffee", "steam", "Third espresso of the day", PORTRAIT, 3.0),
)

PHOTO_POSTS = (
    PhotoPost("photography", (Photo("sunset", "The old harbour at dusk", (1080, 1350)),
                              Photo("sunset", "The same harbour, the sun nearly gone", (1600, 900)),
                              Photo("trees", "The park on the way home", (1600, 900)))),
    PhotoPost("climate", (Photo("trees", "Newly planted trees in the town park", (1600, 900)),)),
    PhotoPost("fotografia", (Photo("sunset", "Tramonto sul lago", (1080, 1350)),)),
    PhotoPost("photographie", (Photo("sunset", "Les quais de Paris à l'aube", (1600, 900)),
                               Photo("ride", "Un vélo sur le pont", SQUARE))),
    PhotoPost("cuisine", (Photo("bubbles", "La tarte tatin au four", SQUARE),)),
    PhotoPost("lecture", (Photo("countdown", "Le dernier chapitre", (1080, 1350)),)),
    PhotoPost("opensource", (Photo("equalizer", "The build going green, one bar at a time", (1600, 900)),)),
)


# --- drawing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Palette:
    sky_top: Color
    sky_bottom: Color
    ground: Color
    accent: Color
    ink: Color


PALETTES = (
    Palette((24, 38, 92), (250, 150, 90), (30, 60, 50), (255, 214, 90), (255, 255, 255)),
    Palette((90, 170, 230), (200, 235, 250), (70, 140, 70), (230, 70, 60), (20, 24, 40)),
    Palette((40, 10, 60), (200, 60, 120), (20, 20, 40), (90, 230, 220), (255, 255, 255)),
    Palette((250, 220, 160), (240, 140, 80), (110, 70, 50), (60, 90, 200), (30, 20, 20)),
    Palette((10, 40, 50), (40, 160, 150), (15, 70, 60), (250, 240, 200), (255, 255, 255)),
)


def _gradient(size: tuple[int, int], top: Color, bottom: Color) -> Image.Image:
    width, height = size
    mix = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    column = (np.array(top, np.float32) * (1 - mix) + np.array(bottom, np.float32) * mix).astype(np.uint8)
    return Image.fromarray(np.repeat(column[:, None, :], width, axis=1), "RGB")


@dataclass(frozen=True)
class Scene:
    """What one scene needs besides the time: its size, colours and the seeded choices it was given."""

    size: tuple[int, int]
    palette: Palette
    rng: random.Random

    @property
    def width(self) -> int:
        return self.size[0]

    @property
    def height(self) -> int:
        return self.size[1]

    @property
    def unit(self) -> float:
        return min(self.size) / 100


def _ride(draw: ImageDraw.ImageDraw, s: Scene, t: float, extra: dict[str, Any]) -> None:
    p, u, ground_y = s.palette, s.unit, s.height * 0.72
    for i, (hx, hh) in enumerate(extra["hills"]):  # hills drift slower than the rider: depth
        x = (hx - t * 0.3 * (i + 1)) % 1.4 - 0.2
        draw.ellipse([(x - 0.35) * s.width, ground_y - hh * s.height, (x + 0.35) * s.width,
                      ground_y + hh * s.height], fill=_shade(p.ground, 0.7 + 0.1 * i))
    draw.rectangle([0, ground_y, s.width, s.height], fill=p.ground)
    cx = (0.15 + 0.7 * t) * s.width
    r = 9 * u
    spin = t * 14 * math.pi
    for wx in (cx - 1.3 * r, cx + 1.3 * r):
        draw.ellipse([wx - r, ground_y - 2 * r, wx + r, ground_y], outline=p.accent, width=max(2, int(u)))
        for k in range(3):
            a = spin + k * math.pi / 3
            draw.line([wx - r * math.cos(a), ground_y - r - r * math.sin(a), wx + r * math.cos(a),
                       ground_y - r + r * math.sin(a)], fill=p.accent, width=max(1, int(u / 2)))
    draw.line([cx - 1.3 * r, ground_y - r, cx, ground_y - 2.2 * r, cx + 1.3 * r, ground_y - r],
              fill=p.ink, width=max(2, int(u)))
    draw.ellipse([cx - 1.2 * u * 3, ground_y - 4.4 * r, cx + 1.2 * u * 3, ground_y - 4.4 * r + 7 * u], fill=p.ink)


def _equalizer(draw: ImageDraw.ImageDraw, s: Scene, t: float, extra: dict[str, Any]) -> None:
    bars = extra["bars"]
    gap = s.width / (len(bars) * 1.5 + 0.5)
    for i, (speed, phase) in enumerate(bars):
        level = 0.25 + 0.6 * abs(math.sin(t * speed * 2 * math.pi + phase))
        x = gap * 0.5 + i * gap * 1.5
        top = s.height * (0.8 - 0.55 * level)
        draw.rounded_rectangle([x, top, x + gap, s.height * 0.8], radius=gap / 3,
                               fill=_blend(s.palette.accent, s.palette.sky_bottom, i / len(bars)))


def _sunset(draw: ImageDraw.ImageDraw, s: Scene, t: float, extra: dict[str, Any]) -> None:
    p, water = s.palette, s.height * 0.62
    r = 14 * s.unit
    cy = water - r * 1.2 + t * r * 1.6
    cx = s.width * extra["sun_x"]
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=SUN)
    draw.rectangle([0, water, s.width, s.height], fill=_shade(p.sky_top, 0.8))
    for k in range(12):  # the sun's broken reflection on the waves
        y = water + (k + 1) * (s.height - water) / 13
        half = r * (1 - k / 14) * (0.6 + 0.4 * math.sin(t * 6 * math.pi + k))
        draw.line([cx - half, y, cx + half, y], fill=_blend(SUN, p.sky_top, k / 12), width=max(2, int(s.unit)))
    for bx, by in extra["boats"]:
        x = (bx + t * 0.05) * s.width
        y = water + by * (s.height - water)
        draw.polygon([(x - 5 * s.unit, y), (x + 5 * s.unit, y), (x + 3 * s.unit, y + 2 * s.unit),
                      (x - 3 * s.unit, y + 2 * s.unit)], fill=p.ground)
        draw.line([x, y, x, y - 8 * s.unit], fill=p.ground, width=max(1, int(s.unit / 2)))


def _ball(draw: ImageDraw.ImageDraw, s: Scene, t: float, extra: dict[str, Any]) -> None:
    p, u = s.palette, s.unit
    grass = s.height * 0.78
    draw.rectangle([0, grass, s.width, s.height], fill=(40, 140, 60))
    for k in range(0, 10, 2):
        draw.rectangle([k * s.width / 10, grass, (k + 1) * s.width / 10, s.height], fill=(50, 160, 70))
    draw.line([s.width * 0.85, grass, s.width * 0.85, grass - 30 * u, s.width, grass - 30 * u], fill=p.ink, width=4)
    x = (0.08 + 0.8 * t) * s.width
    bounce = abs(math.sin(t * extra["bounces"] * math.pi))
    r = 6 * u
    y = grass - r - bounce * 32 * u
    draw.ellipse([x - r, grass - 0.6 * u, x + r, grass + 0.6 * u], fill=(20, 80, 30))  # its shadow
    draw.ellipse([x - r, y - r, x + r, y + r], fill=(250, 250, 250), outline=(20, 20, 20), width=2)
    draw.regular_polygon((x, y, r * 0.4), 5, rotation=t * 720, fill=(20, 20, 20))


def _train(draw: ImageDraw.ImageDraw, s: Scene, t: float, extra: dict[str, Any]) -> None:
    p, u = s.palette, s.unit
    rail = s.height * 0.7
    for i, height in enumerate(extra["skyline"]):
        x = ((i / len(extra["skyline"]) - t * 0.2) % 1.0) * s.width * 1.1 - s.width * 0.05
        draw.rectangle([x, rail - height * s.height, x + s.width / len(extra["skyline"]), rail],
                       fill=_shade(p.ground, 0.8))
    draw.rectangle([0, rail, s.width, s.height], fill=p.ground)
    draw.line([0, rail + 2 * u, s.width, rail + 2 * u], fill=p.ink, width=max(2, int(u / 2)))
    head = (-0.6 + 1.9 * t) * s.width
    car = 22 * u
    for k in range(4):
        x = head - k * (car + 2 * u)
        draw.rounded_rectangle([x - car, rail - 14 * u, x, rail], radius=2 * u, fill=p.accent)
        for w in range(3):
            wx = x - car + (w + 0.5) * car / 3
            draw.rectangle([wx - 2.5 * u, rail - 11 * u, wx + 2.5 * u, rail - 7 * u], fill=p.sky_bottom)


def _bubbles(draw: ImageDraw.ImageDraw, s: Scene, t: float, extra: dict[str, Any]) -> None:
    p, u = s.palette, s.unit
    rim = s.height * 0.55
    draw.ellipse([s.width * 0.1, rim - 10 * u, s.width * 0.9, rim + 10 * u], fill=(60, 60, 70))
    draw.rectangle([s.width * 0.1, rim, s.width * 0.9, rim + 35 * u], fill=(60, 60, 70))
    draw.ellipse([s.width * 0.12, rim - 8 * u, s.width * 0.88, rim + 8 * u], fill=p.accent)
    for bx, speed, size in extra["bubbles"]:
        rise = (t * speed) % 1.0
        x = s.width * (0.15 + 0.7 * bx)
        y = rim - rise * 40 * u
        r = size * u * (1 - rise * 0.6)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=p.ink, width=max(1, int(u / 2)))


def _steam(draw: ImageDraw.ImageDraw, s: Scene, t: float, extra: dict[str, Any]) -> None:
    p, u = s.palette, s.unit
    cup_top = s.height * 0.6
    draw.rounded_rectangle([s.width * 0.3, cup_top, s.width * 0.7, cup_top + 30 * u], radius=6 * u, fill=p.ink)
    draw.ellipse([s.width * 0.66, cup_top + 6 * u, s.width * 0.82, cup_top + 20 * u], outline=p.ink, width=int(2 * u))
    draw.ellipse([s.width * 0.32, cup_top - 2 * u, s.width * 0.68, cup_top + 4 * u], fill=(90, 50, 30))
    for k, phase in enumerate(extra["wisps"]):
        x0 = s.width * (0.4 + 0.1 * k)
        points = [(x0 + 4 * u * math.sin(j / 3 + t * 4 * math.pi + phase), cup_top - 4 * u - j * 2.5 * u)
                  for j in range(14)]
        draw.line(points, fill=_blend(p.ink, p.sky_bottom, 0.4), width=max(2, int(u)), joint="curve")


def _trees(draw: ImageDraw.ImageDraw, s: Scene, t: float, extra: dict[str, Any]) -> None:
    p, u = s.palette, s.unit
    ground = s.height * 0.75
    draw.rectangle([0, ground, s.width, s.height], fill=p.ground)
    for x, grow, sway in extra["trees"]:
        h = (18 + 22 * grow * min(1.0, 0.4 + t)) * u
        cx = x * s.width + math.sin(t * 2 * math.pi + sway) * u
        draw.rectangle([cx - 1.2 * u, ground - h * 0.5, cx + 1.2 * u, ground], fill=(90, 60, 40))
        draw.ellipse([cx - h * 0.35, ground - h * 1.1, cx + h * 0.35, ground - h * 0.4],
                     fill=_shade((60, 150, 70), grow))


def _countdown(draw: ImageDraw.ImageDraw, s: Scene, t: float, extra: dict[str, Any]) -> None:
    p, u = s.palette, s.unit
    cx, cy, r = s.width / 2, s.height * 0.45, 28 * u
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=p.ink, width=max(2, int(u)))
    draw.pieslice([cx - r * 0.9, cy - r * 0.9, cx + r * 0.9, cy + r * 0.9], -90, -90 + (t * 3 % 1.0) * 360,
                  fill=_shade(p.accent, 0.8))
    number = str(3 - int(t * 3) % 3)
    font = _font(int(r))
    draw.text((cx, cy), number, fill=p.ink, font=font, anchor="mm")
    for k in range(8):  # film perforations along the top and bottom
        x = ((k / 8 + t * 0.25) % 1.0) * s.width
        for y in (4 * u, s.height - 8 * u):
            draw.rectangle([x, y, x + 5 * u, y + 4 * u], fill=p.ink)


SCENES: dict[str, Callable[[ImageDraw.ImageDraw, Scene, float, dict[str, Any]], None]] = {
    "ride": _ride, "equalizer": _equalizer, "sunset": _sunset, "ball": _ball, "train": _train,
    "bubbles": _bubbles, "steam": _steam, "trees": _trees, "countdown": _countdown,
}


def _choices(scene: str, rng: random.Random) -> dict[str, Any]:
    """The seeded, per-item variety of a scene: where the hills, boats, bars and trees are."""
    return {
        "hills": [(rng.random(), rng.uniform(0.08, 0.2)) for _ in range(3)],
        "bars": [(rng.uniform(0.5, 2.0), rng.uniform(0, math.pi)) for _ in range(rng.randint(7, 11))],
        "sun_x": rng.uniform(0.3, 0.7),
        "boats": [(rng.random() * 0.8, rng.uniform(0.2, 0.7)) for _ in range(rng.randint(1, 3))],
        "bounces": rng.choice((3, 4, 5)),
        "skyline": [rng.uniform(0.1, 0.35) for _ in range(rng.randint(6, 10))],
        "bubbles": [(rng.random(), rng.uniform(1.0, 2.5), rng.uniform(1.5, 4)) for _ in range(14)],
        "wisps": [rng.uniform(0, math.pi) for _ in range(3)],
        "trees": [(rng.uniform(0.08, 0.92), rng.uniform(0.5, 1.0), rng.uniform(0, math.pi))
                  for _ in range(rng.randint(4, 8))],
    }


def _shade(color: Color, factor: float) -> Color:
    return (min(255, int(color[0] * factor)), min(255, int(color[1] * factor)), min(255, int(color[2] * factor)))


def _contrast(background: Color) -> Color:
    light = 0.299 * background[0] + 0.587 * background[1] + 0.114 * background[2]
    return (20, 20, 20) if light > 140 else (255, 255, 255)


def _blend(a: Color, b: Color, mix: float) -> Color:
    return (int(a[0] + (b[0] - a[0]) * mix), int(a[1] + (b[1] - a[1]) * mix), int(a[2] + (b[2] - a[2]) * mix))


_FONTS: dict[int, Any] = {}


def _font(size: int) -> Any:
    if size not in _FONTS:
        _FONTS[size] = ImageFont.load_default(size=size)  # Pillow's own font: no system font needed
    return _FONTS[size]


class Painter:
    """Draws the frames of one scene; the background gradient is made once."""

    def __init__(self, scene: str, size: tuple[int, int], caption: str, seed: int, overlay: str = "") -> None:
        rng = random.Random(f"{seed}:{scene}:{caption}")
        self.scene = Scene(size, rng.choice(PALETTES), rng)
        self.draw_scene = SCENES[scene]
        self.extra = _choices(scene, rng)
        self.overlay = overlay  # text drawn into the picture, like a sticker in a phone's editor
        self.background = _gradient(size, self.scene.palette.sky_top, self.scene.palette.sky_bottom)

    def frame(self, t: float) -> Image.Image:
        """The picture at ``t`` (0 to 1 over the clip)."""
        image = self.background.copy()
        draw = ImageDraw.Draw(image)
        self.draw_scene(draw, self.scene, t, self.extra)
        if self.overlay:
            self._overlay(draw, t)
        return image

    def _overlay(self, draw: ImageDraw.ImageDraw, t: float) -> None:
        s = self.scene
        font = _font(max(12, int(s.unit * 7)))
        left, top, right, bottom = draw.textbbox((0, 0), self.overlay, font=font)
        pad = s.unit * 2
        x = (s.width - (right - left)) / 2
        y = s.height * 0.3 + math.sin(t * 2 * math.pi) * s.unit * 2  # it floats a little
        draw.rounded_rectangle([x - pad, y - pad, x + right - left + pad, y + bottom - top + pad], radius=pad,
                               fill=s.palette.accent)
        draw.text((x - left, y - top), self.overlay, fill=_contrast(s.palette.accent), font=font)


# --- encoding ------------------------------------------------------------------------------------

def chord_samples(chord: tuple[float, ...], seconds: float, rate: int = AUDIO_RATE) -> Any:
    """A soft chord with a fade in and out: float32 samples in -1..1."""
    t = np.arange(int(seconds * rate), dtype=np.float32) / rate
    wave = sum(np.sin(2 * math.pi * f * t) for f in chord) / max(1, len(chord))
    fade = np.minimum(1.0, np.minimum(t / 0.2, (seconds - t) / 0.4))
    return (0.3 * wave * fade * (0.8 + 0.2 * np.sin(2 * math.pi * 2 * t))).astype(np.float32)


def write_clip(clip: Clip, path: Path, seed: int) -> Path:
    """Draw ``clip`` into an MP4 at ``path`` (H.264, with AAC when it has a chord), as a phone would record it."""
    painter = Painter(clip.scene, clip.size, clip.caption, seed, overlay=f"#{clip.topic}")
    frames = round(clip.seconds * FPS)
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=FPS)
        video.width, video.height = clip.size
        video.pix_fmt = "yuv420p"
        video.options = {"preset": "ultrafast", "crf": "18"}
        sound = out.add_stream("aac", rate=AUDIO_RATE) if clip.chord else None
        if sound is not None:
            sound.layout = "stereo"
        for i in range(frames):
            frame = av.VideoFrame.from_image(painter.frame(i / frames))
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            _write_sound(out, sound, chord_samples(clip.chord, clip.seconds))
    return path


def _write_sound(out: Any, sound: Any, samples: Any) -> None:
    step = 1024
    for start in range(0, len(samples), step):
        chunk = samples[start:start + step]
        frame = av.AudioFrame.from_ndarray(np.stack([chunk, chunk]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = AUDIO_RATE, start, Fraction(1, AUDIO_RATE)
        out.mux(sound.encode(frame))
    out.mux(sound.encode(None))


def photo_bytes(photo: Photo, seed: int) -> bytes:
    """A still of the photo's scene as a camera's JPEG."""
    rng = random.Random(f"{seed}:{photo.caption}")
    image = Painter(photo.scene, photo.size, photo.caption, seed).frame(rng.uniform(0.2, 0.8))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


# --- loading into the demo -----------------------------------------------------------------------

@dataclass(frozen=True)
class Planned:
    """Uploads made for one demo post, attached once every one of them is ready."""

    status_id: int
    author_id: int
    media_ids: list[int]
    kind: str  # videos or photos


async def _liked_recent_posts(ctx: Context, topic: str, taken: set[int]) -> list[tuple[int, int]]:
    """The public original post tagged ``topic`` (without media) most liked of the last two days, else the
    newest: what For You's trending source brings first, so the feed's first screens show the media."""
    has_media = exists().where(media_attachments.c.status_id == statuses.c.id)
    async with ctx.db.read() as conn:
        rows = (await conn.execute(
            select(statuses.c.id, statuses.c.account_id, statuses.c.favourites_count)
            .join(status_tags, status_tags.c.status_id == statuses.c.id)
            .join(tags, tags.c.id == status_tags.c.tag_id)
            .where(and_(tags.c.name == topic, statuses.c.visibility == "public", statuses.c.reblog_of_id.is_(None),
                        statuses.c.in_reply_to_id.is_(None), statuses.c.deleted_at.is_(None), ~has_media))
            .order_by(statuses.c.id.desc()).limit(RECENT_CANDIDATES + len(taken)))).all()
    fresh = [r for r in rows if int(r.id) not in taken]
    if not fresh:
        return []
    window_start = id_for_time(datetime.now(UTC) - trending.WINDOW)
    best = max(fresh, key=lambda r: (int(r.id) >= window_start, r.favourites_count, r.id))
    return [(int(best.id), int(best.account_id))]


async def _transcode_all(ctx: Context, runner: JobRunner, drawing_done: asyncio.Event,
                         finished: Callable[[], None]) -> None:
    """Run queued transcodes until the drawing is done and no job is left."""
    while True:
        if await runner.run_once():
            finished()
        elif drawing_done.is_set():
            return
        else:
            await asyncio.sleep(0.05)  # the next clip is still being drawn


async def add_demo_media(ctx: Context, *, seed: int = 7, progress: Progress | None = None,
                         clips: tuple[Clip, ...] = CLIPS, photo_posts: tuple[PhotoPost, ...] = PHOTO_POSTS
                         ) -> dict[str, int]:
    """Draw the demo's clips and photos, upload them as their posts' authors, and attach them once processed.

    Run on a community just generated, before anything serves it: a post already rendered keeps its
    rendering (without media) until it is edited.
    """
    report = progress or (lambda _stage, _done, _total: None)
    total = len(clips) + len(photo_posts)
    done = 0

    def one_more() -> None:
        nonlocal done
        done += 1
        report("photos and videos", done, total)

    report("photos and videos", 0, total)
    registry = Registry()
    media_jobs.register(registry, ctx.db, storage_for(ctx.settings, ctx.home), ctx.settings)
    runner = JobRunner(ctx.db, registry, [media_jobs.TRANSCODE])
    drawing_done = asyncio.Event()
    planned: list[Planned] = []
    taken: set[int] = set()
    with tempfile.TemporaryDirectory(prefix="stoa-demo-media-") as work:
        transcoders = [asyncio.create_task(_transcode_all(ctx, runner, drawing_done, one_more))
                       for _ in range(TRANSCODERS)]
        try:
            for n, clip in enumerate(clips):
                for status_id, author_id in await _liked_recent_posts(ctx, clip.topic, taken):
                    path = await asyncio.to_thread(write_clip, clip, Path(work) / f"clip{n}.mp4", seed)
                    media_id = await attachments.upload(ctx, author_id, path, clip.caption, None)
                    planned.append(Planned(status_id, author_id, [media_id], "videos"))
                    taken.add(status_id)
            for n, post in enumerate(photo_posts):
                for status_id, author_id in await _liked_recent_posts(ctx, post.topic, taken):
                    ids = [await attachments.upload(ctx, author_id, await _photo_file(photo, work, n, k, seed),
                                                    photo.caption, None)
                           for k, photo in enumerate(post.photos)]
                    planned.append(Planned(status_id, author_id, ids, "photos"))
                    taken.add(status_id)
                one_more()
        finally:
            drawing_done.set()
            await asyncio.gather(*transcoders)
    return await _attach_ready(ctx, planned)


async def _photo_file(photo: Photo, work: str, post: int, index: int, seed: int) -> Path:
    path = Path(work) / f"photo{post}-{index}.jpg"
    await asyncio.to_thread(path.write_bytes, await asyncio.to_thread(photo_bytes, photo, seed))
    return path


async def _attach_ready(ctx: Context, planned: list[Planned]) -> dict[str, int]:
    """Attach every upload that processed; one that failed leaves its post as text (and is counted)."""
    async with ctx.db.read() as conn:
        states = {int(r.id): r.state for r in await conn.execute(
            select(media_attachments.c.id, media_attachments.c.state).where(
                media_attachments.c.id.in_([m for p in planned for m in p.media_ids])))}
    counts = {"videos": 0, "photos": 0, "media_failed": 0}
    async with ctx.db.write() as conn:
        for post in planned:
            if any(states.get(m) != "ready" for m in post.media_ids):
                counts["media_failed"] += len(post.media_ids)
                continue
            await attachments.attach(conn, post.author_id, post.media_ids, post.status_id)
            counts[post.kind] += len(post.media_ids)
    return counts
