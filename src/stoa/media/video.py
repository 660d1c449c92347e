"""Video: probe an upload, transcode it to a web-safe MP4, and make its poster.

Every video (and every animated GIF, which becomes a looping video) is served as H.264 (High
profile, yuv420p) with AAC stereo audio in an MP4 whose index (the moov atom) comes first, so a
browser starts playing before the download ends and can seek with Range requests. At most 720p
by default, upright (the phone's rotation flag is applied to the pixels), with no metadata from
the original: GPS position, device model and dates stay behind.

FFmpeg comes inside PyAV's wheel. Decoding untrusted files is the riskiest thing a server does,
so the worker runs :func:`main` in a child process (``python -m stoa.media.video``): a decoder
crash costs that child, never the worker.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
from PIL import Image

from stoa.core.errors import ValidationFailed

MAX_SIDE = 8192
MAX_PIXELS = 40_000_000  # 4K phones are 8.3 Mpx; this refuses absurd frames before decoding them
PRESET = "veryfast"
CRF = 23
AUDIO_RATE = 48_000
AUDIO_BITRATE = 128_000


@dataclass(frozen=True)
class Probe:
    width: int  # as displayed, rotation applied
    height: int
    duration: float
    rotation: int  # degrees clockwise the picture must turn to stand upright
    codec: str
    has_audio: bool


@dataclass(frozen=True)
class Transcoded:
    width: int
    height: int
    frame_rate: str
    duration: float
    bitrate: int
    frames: int
    has_audio: bool


def _open(path: Path) -> Any:
    try:
        return av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError):
        raise ValidationFailed("The file is not a video Stoa can read (damaged, or another kind of file)") from None


def _clockwise(frame_rotation: float) -> int:
    """FFmpeg's display matrix turns the stored picture counter-clockwise by this angle to show it.

    Stoa turns the pixels once, at transcode time, so players need not (the ffmpeg tool's autorotate).
    """
    return round(-frame_rotation) % 360


def probe(path: Path, max_seconds: float) -> Probe:
    """Check an upload is a video we can serve, without transcoding it: type, size, length, first frame."""
    try:
        return _probe(path, max_seconds)
    except av.error.FFmpegError:
        raise ValidationFailed("The video cannot be decoded (damaged, or a codec Stoa cannot read)") from None


def _probe(path: Path, max_seconds: float) -> Probe:
    container = _open(path)
    with container:
        if not container.streams.video:
            raise ValidationFailed("The file has no video in it")
        stream = container.streams.video[0]
        if stream.codec_context is None:
            raise ValidationFailed("The video is in a codec Stoa cannot read")
        width, height = stream.codec_context.width, stream.codec_context.height
        if width <= 0 or height <= 0:
            raise ValidationFailed("The video has no picture size; the file is probably damaged")
        if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
            raise ValidationFailed(f"The video is too large ({width}×{height}); the limit is {MAX_SIDE} pixels a side")
        duration = _duration(container, stream)
        if duration > max_seconds:
            raise ValidationFailed(f"The video is {duration:.0f} s long; the limit is {max_seconds:.0f} s")
        try:
            first = next(container.decode(stream))
        except (av.error.FFmpegError, StopIteration):
            raise ValidationFailed("The video cannot be decoded (damaged, or a codec Stoa cannot read)") from None
        rotation = _clockwise(first.rotation)
        if rotation in (90, 270):
            width, height = height, width
        return Probe(width, height, duration, rotation, stream.codec_context.name,
                     bool(container.streams.audio))


def _duration(container: Any, stream: Any) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return float(container.duration / av.time_base)
    last = 0.0  # some recorders (a browser's MediaRecorder) write no duration: read the packet times
    for packet in container.demux(stream):
        if packet.pts is not None and packet.time_base is not None:
            last = max(last, float(packet.pts * packet.time_base))
    return last


def output_size(width: int, height: int, max_lines: int) -> tuple[int, int]:
    """Fit an upright picture in max_lines on its short side (and 16:9 of that on its long side), even numbers."""
    short, long = min(width, height), max(width, height)
    scale = min(1.0, max_lines / short, (max_lines * 16 / 9) / long)

    def even(v: float) -> int:
        return max(2, int(v * scale) // 2 * 2)

    return even(width), even(height)


def _filters(rotation: int, width: int, height: int, fps_cap: bool) -> list[tuple[str, str]]:
    turn = {90: [("transpose", "clock")], 180: [("hflip", ""), ("vflip", "")], 270: [("transpose", "cclock")]}
    chain = list(turn.get(rotation, []))
    if fps_cap:
        chain.append(("fps", "30"))
    chain += [("scale", f"{width}:{height}:flags=bicubic"), ("format", "yuv420p")]
    return chain


def transcode(source: Path, target: Path, max_lines: int = 720,
              checked: Probe | None = None) -> tuple[Transcoded, Image.Image]:
    """Transcode ``source`` into ``target`` (H.264/AAC MP4, moov first); returns its facts and the poster frame.

    Anything FFmpeg cannot make sense of, at any step, is a refusal (ValidationFailed), never a crash,
    and leaves no ``target`` behind.
    """
    checked = checked or probe(source, float("inf"))
    try:
        return _transcode(source, target, max_lines, checked)
    except av.error.FFmpegError:
        target.unlink(missing_ok=True)
        raise ValidationFailed("The video cannot be decoded (damaged, or a codec Stoa cannot read)") from None
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def _transcode(source: Path, target: Path, max_lines: int, checked: Probe) -> tuple[Transcoded, Image.Image]:
    width, height = output_size(checked.width, checked.height, max_lines)
    with _open(source) as inp, av.open(str(target), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        vin = inp.streams.video[0]
        vin.thread_type = "AUTO"
        ain = inp.streams.audio[0] if inp.streams.audio else None
        rate = vin.average_rate or vin.guessed_rate or Fraction(30)
        fps_cap = rate > 60
        out_rate = Fraction(30) if fps_cap else rate
        # Every output stream exists before the first packet is written (the MP4 header lists them).
        video = _VideoTrack(out, _video_stream(out, vin, out_rate, width, height),
                            _graph(vin, checked.rotation, width, height, fps_cap))
        audio = _AudioTrack(out) if ain is not None else None
        for packet in inp.demux(*([vin] + ([ain] if ain is not None else []))):
            for frame in packet.decode():
                if packet.stream is vin:
                    video.push(frame)
                elif audio is not None:
                    audio.push(frame)
        poster = video.finish()
        if audio is not None:
            audio.finish()
    duration = video.last_seconds - (video.first_seconds or 0.0) + 1 / float(out_rate)
    size = target.stat().st_size
    info = Transcoded(width, height, f"{out_rate.numerator}/{out_rate.denominator}", round(duration, 3),
                      int(size * 8 / duration), video.frames, ain is not None)
    return info, poster


class _VideoTrack:
    """Decoded frames through the filter graph into the H.264 stream; keeps the first frame as the poster."""

    def __init__(self, out: Any, stream: Any, graph: Any) -> None:
        self.out, self.stream, self.graph = out, stream, graph
        self.poster: Image.Image | None = None
        self.frames = 0
        self.first_seconds: float | None = None
        self.last_seconds = 0.0
        self._last_ticks = -1

    def push(self, frame: Any) -> None:
        self.graph.push(frame)
        for done in _pull(self.graph):
            self._encode(done)

    def finish(self) -> Image.Image:
        """Flush the graph and the encoder; the poster frame (a video with none is refused)."""
        self.graph.push(None)
        for done in _pull(self.graph):
            self._encode(done)
        if self.poster is None:
            raise ValidationFailed("The video has no frames Stoa can decode")
        self.out.mux(self.stream.encode(None))
        return self.poster

    def _encode(self, done: Any) -> None:
        if done.pts is None or done.pts <= self._last_ticks:  # damaged timestamps: keep time moving forward
            done.pts = self._last_ticks + 1
        self._last_ticks = done.pts
        seconds = float(done.pts * done.time_base)
        self.first_seconds = seconds if self.first_seconds is None else self.first_seconds
        self.last_seconds = seconds
        if self.poster is None:
            self.poster = done.to_image()
        self.frames += 1
        self.out.mux(self.stream.encode(done))


class _AudioTrack:
    """Decoded audio resampled to stereo AAC at AUDIO_RATE, timed by its samples (gapless, monotonic)."""

    def __init__(self, out: Any) -> None:
        self.out = out
        self.stream = out.add_stream("aac", rate=AUDIO_RATE)
        self.stream.layout = "stereo"
        self.stream.bit_rate = AUDIO_BITRATE
        self.resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        self.samples = 0

    def push(self, frame: Any) -> None:
        for chunk in self.resampler.resample(frame):
            self._encode(chunk)

    def finish(self) -> None:
        for chunk in self.resampler.resample(None):
            self._encode(chunk)
        self.out.mux(self.stream.encode(None))

    def _encode(self, chunk: Any) -> None:
        chunk.pts, chunk.time_base = self.samples, Fraction(1, AUDIO_RATE)
        self.samples += chunk.samples
        self.out.mux(self.stream.encode(chunk))


def _graph(vin: Any, rotation: int, width: int, height: int, fps_cap: bool) -> Any:
    graph = av.filter.Graph()
    node = graph.add_buffer(template=vin)
    for name, args in _filters(rotation, width, height, fps_cap):
        step = graph.add(name, args) if args else graph.add(name)
        node.link_to(step)
        node = step
    node.link_to(graph.add("buffersink"))
    graph.configure()
    return graph


def _pull(graph: Any) -> list[Any]:
    frames = []
    while True:
        try:
            frames.append(graph.pull())
        except (av.error.BlockingIOError, av.error.EOFError):
            return frames


def _video_stream(out: Any, vin: Any, rate: Fraction, width: int, height: int) -> Any:
    vout = out.add_stream("libx264", rate=rate)
    vout.width, vout.height, vout.pix_fmt = width, height, "yuv420p"
    vout.time_base = vin.time_base
    vout.codec_context.time_base = vin.time_base  # keep the source's timing (phones record variable frame rates)
    vout.options = {"preset": PRESET, "crf": str(CRF)}
    return vout


def process(source: Path, out_dir: Path, max_lines: int, max_seconds: float) -> dict[str, Any]:
    """The whole job for one upload: probe, transcode, poster, preview, blurhash. Files land in ``out_dir``."""
    from stoa.media.images import blurhash_of, encode_still

    checked = probe(source, max_seconds)
    info, poster = transcode(source, out_dir / "video.mp4", max_lines, checked)
    small = poster.copy()
    small.thumbnail((640, 640), Image.Resampling.LANCZOS)  # the poster clients show before playing
    preview = encode_still(small)
    (out_dir / f"preview.{preview.extension}").write_bytes(preview.data)
    return {"probe": asdict(checked), "video": asdict(info), "preview": f"preview.{preview.extension}",
            "preview_size": [preview.width, preview.height], "blurhash": blurhash_of(poster)}


def main(argv: list[str] | None = None) -> int:
    """Child-process entry: prints one JSON line. Exit 0 done, 2 the upload is refused (message for its owner)."""
    parser = argparse.ArgumentParser(prog="python -m stoa.media.video")
    parser.add_argument("source", type=Path)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--max-lines", type=int, default=720)
    parser.add_argument("--max-seconds", type=float, default=180.0)
    args = parser.parse_args(argv)
    try:
        result = process(args.source, args.out_dir, args.max_lines, args.max_seconds)
    except ValidationFailed as refused:
        print(json.dumps({"ok": False, "error": str(refused)}))
        return 2
    print(json.dumps({"ok": True, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
