"""Media benchmark: transcode speed against the bare ffmpeg command, peak memory, upload throughput.

    apt-get install -y ffmpeg            # the reference; Stoa itself uses the FFmpeg inside PyAV
    python bench/media.py                # writes bench/results/media.json

1. A 15 s 1080p30 clip with stereo audio is generated (moving pattern plus noise, so the encoder
   has real work; cached in bench/results).
2. The same transcode to 720p, three times each, in the same run: `ffmpeg` (same filters, x264
   preset and CRF, AAC 128k, moov first, metadata dropped) and Stoa's `video.transcode`; then
   Stoa's whole job as a worker runs it (`python -m stoa.media.video`: probe, transcode, poster,
   preview, blurhash, in a child process). Median wall time; peak resident memory of each child
   (os.wait4's rusage).
3. Upload throughput: a live `stoa serve` (SQLite), 8 concurrent clients uploading 2-megapixel
   JPEGs (processed in the request), then 8 distinct 15 s videos (accepted with 202, then
   transcoded by the worker queue: time until all are ready).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
from PIL import Image

from stoa.media import video

HERE = Path(__file__).parent
RESULTS = HERE / "results"


def make_clip(path: Path, seconds: int = 15, width: int = 1920, height: int = 1080, fps: int = 30,
              seed: int = 0) -> Path:
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    tmp = path.with_suffix(".part.mp4")
    with av.open(str(tmp), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        # A phone-like source: about 16 Mb/s, as phones record 1080p30 H.264.
        stream.options = {"preset": "veryfast", "crf": "20", "maxrate": "16M", "bufsize": "32M"}
        sound = out.add_stream("aac", rate=48000)
        sound.layout = "stereo"
        for i in range(seconds * fps):
            t = i / fps
            r = 127 + 100 * np.sin(xs / 90 + t * 2.0)
            g = 127 + 100 * np.sin(ys / 70 - t * 1.5)
            b = 127 + 100 * np.sin((xs + ys) / 120 + t)
            picture = np.stack([r, g, b], axis=-1)
            picture += rng.normal(0, 4, picture.shape[:2])[..., None]  # sensor-like grain
            frame = av.VideoFrame.from_ndarray(np.clip(picture, 0, 255).astype(np.uint8), format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        for i in range(seconds * 48000 // 1024):
            tt = (np.arange(1024) + i * 1024) / 48000
            tone = (0.2 * np.sin(2 * np.pi * 330 * tt)).astype(np.float32)
            frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = 48000, i * 1024, Fraction(1, 48000)
            out.mux(sound.encode(frame))
        out.mux(sound.encode(None))
    tmp.rename(path)
    return path


def variant(clip: Path, index: int) -> Path:
    """The same clip remuxed with a different tag: distinct bytes (no deduplication), same transcode work."""
    target = clip.with_name(f"{clip.stem}-{index}.mp4")
    if target.exists():
        return target
    with av.open(str(clip)) as inp, av.open(str(target), "w") as out:
        out.metadata["comment"] = f"upload {index}"
        mapping = {s.index: out.add_stream_from_template(s) for s in inp.streams if s.type in ("video", "audio")}
        for packet in inp.demux():
            if packet.dts is not None and packet.stream.index in mapping:
                packet.stream = mapping[packet.stream.index]
                out.mux(packet)
    return target


def run_child(args: list[str]) -> tuple[float, int]:
    """Wall seconds and peak resident bytes of one child process."""
    started = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"{args[0]} failed: {child.stderr.read().decode()[-2000:] if child.stderr else ''}")
    return elapsed, usage.ru_maxrss * 1024


def ffmpeg_args(source: Path, target: Path) -> list[str]:
    return ["ffmpeg", "-nostdin", "-y", "-loglevel", "error", "-i", str(source),
            "-vf", "scale=1280:720:flags=bicubic,format=yuv420p",
            "-c:v", "libx264", "-preset", video.PRESET, "-crf", str(video.CRF), "-profile:v", "high",
            "-c:a", "aac", "-b:a", "128k", "-ar", "48000", "-ac", "2",
            "-map_metadata", "-1", "-movflags", "+faststart", str(target)]


def in_process_args(source: Path, target: Path) -> list[str]:
    code = ("import sys; from pathlib import Path; from stoa.media import video; "
            "video.transcode(Path(sys.argv[1]), Path(sys.argv[2]))")
    return [sys.executable, "-c", code, str(source), str(target)]


def transcode_bench(clip: Path, work: Path, runs: int) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for name, make in (("ffmpeg", ffmpeg_args), ("stoa_transcode", in_process_args)):
        times, peaks = [], []
        for i in range(runs):
            elapsed, peak = run_child(make(clip, work / f"{name}-{i}.mp4"))
            times.append(elapsed)
            peaks.append(peak)
        results[name] = {"median_s": round(statistics.median(times), 3), "runs_s": [round(t, 3) for t in times],
                         "peak_rss_mb": round(max(peaks) / 2**20, 1),
                         "output_mb": round((work / f"{name}-0.mp4").stat().st_size / 2**20, 2)}
    times, peaks = [], []
    for i in range(runs):
        out = work / f"job-{i}"
        out.mkdir()
        elapsed, peak = run_child([sys.executable, "-m", "stoa.media.video", str(clip), str(out)])
        times.append(elapsed)
        peaks.append(peak)
    results["stoa_job"] = {"median_s": round(statistics.median(times), 3), "runs_s": [round(t, 3) for t in times],
                           "peak_rss_mb": round(max(peaks) / 2**20, 1)}
    with av.open(str(clip)) as c:
        duration = float(c.duration / av.time_base)
    results["clip_seconds"] = round(duration, 2)
    results["clip_mb"] = round(clip.stat().st_size / 2**20, 2)
    results["ratio_transcode_vs_ffmpeg"] = round(results["stoa_transcode"]["median_s"] /
                                                 results["ffmpeg"]["median_s"], 3)
    results["ratio_job_vs_ffmpeg"] = round(results["stoa_job"]["median_s"] / results["ffmpeg"]["median_s"], 3)
    results["realtime_factor_transcode"] = round(duration / results["stoa_transcode"]["median_s"], 2)
    results["realtime_factor_job"] = round(duration / results["stoa_job"]["median_s"], 2)
    return results


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def upload_bench(clips: list[Path], work: Path, concurrency: int, images_per_client: int) -> dict[str, Any]:
    port = free_port()
    env = {**os.environ, "STOA_DATA_DIR": str(work / "data"), "STOA_PORT": str(port), "STOA_HOST": "127.0.0.1",
           "STOA_RATE_LIMIT_ENABLED": "false", "STOA_LOG_LEVEL": "warning"}
    server = subprocess.Popen([sys.executable, "-m", "stoa.cli", "serve"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result = asyncio.run(_uploads(f"http://127.0.0.1:{port}", clips, concurrency, images_per_client))
        result["server_peak_rss_mb"] = peak_rss_mb(server.pid)
        return result
    finally:
        server.terminate()
        server.wait(timeout=30)


async def _uploads(base: str, clips: list[Path], concurrency: int, images_per_client: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=600) as http:
        for _ in range(300):
            try:
                if (await http.get("/health")).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
        app = (await http.post("/api/v1/apps", data={"client_name": "bench", "redirect_uris":
                                                     "urn:ietf:wg:oauth:2.0:oob", "scopes": "read write"})).json()
        token = (await http.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "read write",
                                                       "client_id": app["client_id"],
                                                       "client_secret": app["client_secret"]})).json()
        account = (await http.post("/api/v1/accounts", headers={
            "Authorization": f"Bearer {token['access_token']}"}, data={
            "username": "bench", "email": "bench@example.org", "password": "a long bench password",
            "agreement": "true"})).json()
        headers = {"Authorization": f"Bearer {account['access_token']}"}

        rng = np.random.default_rng(1)
        photos = []
        for i in range(concurrency * images_per_client):
            buffer = io.BytesIO()
            pixels = rng.integers(0, 255, (1200, 1600, 3), dtype=np.uint8) // 4 + (i % 190)
            Image.fromarray(pixels.astype(np.uint8)).save(buffer, "JPEG", quality=85)
            photos.append(buffer.getvalue())

        async def send(data: bytes, name: str, kind: str) -> str:
            response = await http.post("/api/v2/media", headers=headers, files={"file": (name, data, kind)})
            if response.status_code not in (200, 202):
                raise RuntimeError(response.text)
            return str(response.json()["id"])

        async def client(batch: list[bytes], name: str, kind: str) -> list[str]:
            return [await send(data, name, kind) for data in batch]

        started = time.perf_counter()
        await asyncio.gather(*(client(photos[i::concurrency], "p.jpg", "image/jpeg")
                               for i in range(concurrency)))
        image_seconds = time.perf_counter() - started
        image_mb = sum(len(p) for p in photos) / 2**20

        videos = [c.read_bytes() for c in clips]
        started = time.perf_counter()
        ids = await asyncio.gather(*(send(v, f"v{i}.mp4", "video/mp4") for i, v in enumerate(videos)))
        accepted = time.perf_counter() - started
        pending = set(ids)
        while pending:
            for media_id in list(pending):
                if (await http.get(f"/api/v1/media/{media_id}", headers=headers)).status_code == 200:
                    pending.discard(media_id)
            await asyncio.sleep(0.25)
        all_ready = time.perf_counter() - started
        video_mb = sum(len(v) for v in videos) / 2**20
    return {
        "concurrency": concurrency,
        "images": {"count": len(photos), "mb": round(image_mb, 1), "seconds": round(image_seconds, 2),
                   "uploads_per_s": round(len(photos) / image_seconds, 1),
                   "mb_per_s": round(image_mb / image_seconds, 1)},
        "videos": {"count": len(videos), "mb": round(video_mb, 1), "accepted_seconds": round(accepted, 2),
                   "accepted_mb_per_s": round(video_mb / accepted, 1),
                   "all_ready_seconds": round(all_ready, 2)},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--images-per-client", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("ffmpeg is not installed: apt-get install -y ffmpeg (the reference this benchmark compares with)")
    RESULTS.mkdir(exist_ok=True)
    print("generating the 15 s 1080p30 clip ...", flush=True)
    clip = make_clip(RESULTS / "clip-1080p30-15s.mp4")
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True).stdout.splitlines()[0]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        print("transcoding ...", flush=True)
        transcode = transcode_bench(clip, work, args.runs)
        print(json.dumps(transcode, indent=2), flush=True)
        clips = [clip] + [variant(clip, i) for i in range(1, args.concurrency)]
        print("uploading ...", flush=True)
        uploads = upload_bench(clips, work, args.concurrency, args.images_per_client)
        print(json.dumps(uploads, indent=2), flush=True)
    result = {
        "transcode": transcode, "uploads": uploads, "ffmpeg": version, "pyav": av.__version__,
        "pyav_ffmpeg": ".".join(map(str, av.library_versions["libavcodec"])),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "bench_process_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)},
    }
    (RESULTS / "media.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
