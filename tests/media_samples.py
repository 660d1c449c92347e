"""Sample media made on the spot with PyAV and Pillow: tests download nothing."""

from __future__ import annotations

import io
import math
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image

GPS = "+45.4642+009.1900/"  # Milan: must never be served


def make_video(path: Path, *, seconds: float = 1.0, width: int = 320, height: int = 240, fps: int = 30,
               codec: str = "libx264", container: str | None = None, audio: bool = True,
               rotation: int | None = None, location: bool = False) -> Path:
    """A clip whose left half is red and right half blue (so a test can tell which way is up)."""
    options = {"movflags": "use_metadata_tags"} if location else {}
    with av.open(str(path), "w", format=container, options=options) as out:
        if location:
            out.metadata["location"] = GPS
            out.metadata["com.apple.quicktime.location.ISO6709"] = GPS
            out.metadata["com.apple.quicktime.model"] = "iPhone 99"
        video = out.add_stream(codec, rate=fps)
        video.width, video.height = width, height
        video.pix_fmt = "yuv420p"
        if codec == "libsvtav1":
            video.options = {"preset": "12"}
        if rotation is not None:
            video.set_display_rotation(rotation)
        sound = None
        if audio:
            sound = out.add_stream("aac" if container != "webm" else "libopus", rate=48000)
            sound.layout = "stereo"
        picture = np.zeros((height, width, 3), dtype=np.uint8)
        picture[:, : width // 2] = (220, 30, 30)
        picture[:, width // 2:] = (30, 30, 220)
        total = int(seconds * fps)
        for i in range(total):
            picture[: height // 8, :] = (i * 7) % 255  # a moving band so frames differ
            frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
        if sound is not None:
            samples = 1024
            for i in range(int(seconds * 48000 / samples)):
                t = (np.arange(samples) + i * samples) / 48000
                tone = (0.2 * np.sin(2 * math.pi * 440 * t)).astype(np.float32)
                frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
                frame.sample_rate = 48000
                frame.pts = i * samples
                frame.time_base = Fraction(1, 48000)
                out.mux(sound.encode(frame))
            out.mux(sound.encode(None))
    return path


def make_gif(frames: int = 6, size: tuple[int, int] = (80, 60)) -> bytes:
    images = [Image.new("RGB", size, ((i * 40) % 255, 80, 160)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def jpeg_with_gps(size: tuple[int, int] = (2400, 1600)) -> bytes:
    """A photo whose EXIF names where it was taken and the camera: both must never be served."""
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x8825] = {2: (45.0, 27.0, 0.0), 4: (9.0, 11.0, 0.0)}  # GPS latitude and longitude
    exif[0x010F] = "PhoneMaker"
    Image.new("RGB", size, (30, 140, 90)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()
