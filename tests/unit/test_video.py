"""The video pipeline on its own: sizes, rotation, frame rates, codecs; and mangled files never crash it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import av
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from stoa.core.errors import ValidationFailed
from stoa.media import images, video
from tests.media_samples import make_gif, make_video


@pytest.mark.parametrize(("width", "height", "lines", "expected"), [
    (1920, 1080, 720, (1280, 720)),
    (1080, 1920, 720, (720, 1280)),
    (3840, 2160, 1080, (1920, 1080)),
    (640, 360, 720, (640, 360)),  # never upscaled
    (721, 405, 720, (720, 404)),  # even sizes, as yuv420p needs
    (3000, 720, 720, (1280, 306)),  # a panorama fits 16:9 of the lines on its long side
])
def test_output_size(width: int, height: int, lines: int, expected: tuple[int, int]) -> None:
    assert video.output_size(width, height, lines) == expected


@pytest.mark.parametrize(("rotation", "size", "top"), [
    (0, (320, 180), None), (90, (180, 320), "blue"), (-90, (180, 320), "red"), (180, (320, 180), None),
])
def test_rotation_is_applied_to_the_pixels(tmp_path: Path, rotation: int, size: tuple[int, int],
                                           top: str | None) -> None:
    source = make_video(tmp_path / "in.mp4", seconds=0.3, width=320, height=180, rotation=rotation or None,
                        audio=False)
    info, poster = video.transcode(source, tmp_path / "out.mp4")
    assert (info.width, info.height) == size and poster.size == size
    with av.open(str(tmp_path / "out.mp4")) as out:
        frame = next(out.decode(video=0))
        assert frame.rotation == 0  # upright pixels, no flag left for players to apply twice
        rgb = frame.to_ndarray(format="rgb24")
    if top is not None:
        pixel = rgb[10, rgb.shape[1] // 2]
        assert (pixel[2] > 150) if top == "blue" else (pixel[0] > 150)
    if rotation == 180:  # red was on the left; turned upside down it is on the right
        assert rgb[rgb.shape[0] // 2, -10][0] > 150


def test_high_frame_rates_are_capped_and_1080p_is_an_option(tmp_path: Path) -> None:
    source = make_video(tmp_path / "fast.mp4", seconds=0.5, width=1920, height=1080, fps=120, audio=False)
    info, _ = video.transcode(source, tmp_path / "720.mp4")
    assert (info.width, info.height, info.frame_rate) == (1280, 720, "30/1")
    assert 14 <= info.frames <= 16
    full, _ = video.transcode(source, tmp_path / "1080.mp4", max_lines=1080)
    assert (full.width, full.height) == (1920, 1080)


def test_the_child_process_reports_refusals_as_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x13" * 400)
    out = tmp_path / "out"
    out.mkdir()
    done = subprocess.run([sys.executable, "-m", "stoa.media.video", str(bad), str(out)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and json.loads(done.stdout)["ok"] is False
    good = make_video(tmp_path / "good.mp4", seconds=0.3)
    done = subprocess.run([sys.executable, "-m", "stoa.media.video", str(good), str(out)], capture_output=True,
                          text=True, timeout=60)
    result = json.loads(done.stdout)
    assert done.returncode == 0 and result["ok"]
    assert (out / "video.mp4").is_file() and (out / result["preview"]).is_file()


def test_heic_photos_are_accepted() -> None:
    # A real HEIC file, committed: encoding one here needs x265, which refused to start now and then under load.
    heic = (Path(__file__).parent.parent / "fixtures" / "photo.heic").read_bytes()
    processed = images.process_post_image(heic, 10_000_000)
    assert processed.original.content_type == "image/jpeg" and processed.original.width == 300
    decoded = Image.open(io.BytesIO(processed.original.data))
    assert decoded.getpixel((150, 100))[2] > 150 and decoded.getpixel((5, 5))[0] > 150  # the blue disc on orange


def test_animations_are_bounded_before_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    assert images.kind_of(make_gif(frames=3)) == "animation"
    assert images.kind_of(make_gif(frames=1)) == "image"
    monkeypatch.setattr(images, "MAX_ANIMATION_PIXELS", 80 * 60 * 10)  # width x height x frames
    assert images.kind_of(make_gif(frames=10)) == "animation"
    with pytest.raises(ValidationFailed, match="too large"):
        images.kind_of(make_gif(frames=11))


SAMPLES: dict[str, bytes] = {}


def _sample(kind: str, tmp: Path) -> bytes:
    if kind not in SAMPLES:
        if kind == "gif":
            SAMPLES[kind] = make_gif(frames=4)
        else:
            SAMPLES[kind] = make_video(tmp / f"s.{kind}", seconds=0.3, width=96, height=64,
                                       container="webm" if kind == "webm" else None,
                                       codec="libvpx-vp9" if kind == "webm" else "libx264",
                                       audio=kind != "webm").read_bytes()
    return SAMPLES[kind]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["mp4", "webm", "gif"]), data=st.data())
def test_mangled_files_are_refused_cleanly(tmp_path: Path, kind: str, data: st.DataObject) -> None:
    """Flip, cut and splice bytes of valid files: the decoder path answers or refuses, never anything else."""
    original = bytearray(_sample(kind, tmp_path))
    edits = data.draw(st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)),
                               min_size=1, max_size=40))
    for position, value in edits:
        original[position] = value
    cut = data.draw(st.integers(16, len(original)))
    mangled = bytes(original[:cut])
    path = tmp_path / f"m.{kind}"
    path.write_bytes(mangled)
    try:
        checked = video.probe(path, 180)
        video.transcode(path, tmp_path / "out.mp4", checked=checked)
    except ValidationFailed:
        pass  # a clear refusal is a fine answer
