"""Media jobs: transcode queued videos and animated GIFs, surviving crashes and kills.

An upload to process is an attachment in ``state = 'processing'`` and a durable job
(:data:`TRANSCODE`, stoa.store.jobs) queued in the same transaction. The job queue leases it to one
worker at a time, retries it when the transcoder crashes or the worker dies, and after
``media_job_attempts`` gives up: the attachment is then marked ``failed`` so a poisonous file cannot
loop forever.

The transcode runs in a child process (``python -m stoa.media.video``): FFmpeg decoding
untrusted input can crash or exhaust memory, and that must cost a child, never the worker. The
child writes into a private temporary directory; only when it has finished are the outputs put
into storage (atomically, content-addressed) and the row switched to ``ready`` in one UPDATE,
so no half-written file is ever served.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import select, update

from stoa.config import Settings
from stoa.media.storage import Storage
from stoa.store.database import Connection, Database
from stoa.store.jobs import Job, JobKind, Registry, enqueue
from stoa.store.schema import media_attachments

log = structlog.get_logger(__name__)

TRANSCODE = "media.transcode"
JOBS = Counter("stoa_media_jobs_total", "Media jobs finished, by outcome", ["outcome"])
SECONDS = Histogram("stoa_media_job_seconds", "Wall time of a media job (transcode and store)",
                    buckets=(0.5, 1, 2, 5, 10, 20, 40, 80, 160, 320))
PEAK_RSS = Gauge("stoa_media_transcoder_peak_rss_bytes", "Largest resident memory of a transcoding child so far")
GAVE_UP = "Processing this file failed repeatedly; try another file or format"


class TranscoderCrashed(RuntimeError):
    """The child died, was killed or timed out: worth another try."""


async def queue_transcode(conn: Connection, media_id: int) -> None:
    """Queue the processing of an attachment, inside the transaction that inserts it."""
    await enqueue(conn, TRANSCODE, {"media_id": media_id}, dedupe_key=f"media:{media_id}")


def register(registry: Registry, db: Database, storage: Storage, settings: Settings) -> None:
    """The media job kinds of one region."""
    transcoder = Transcoder(db, storage, settings)
    registry.register(JobKind(TRANSCODE, transcoder.handle, max_attempts=settings.media_job_attempts,
                              lease_seconds=settings.media_job_lease_seconds, backoff_base=1.0, backoff_cap=60.0,
                              on_dead=transcoder.gave_up))


class Transcoder:
    """Processes one region's queued videos; one at a time per worker process (a transcode fills a core)."""

    def __init__(self, db: Database, storage: Storage, settings: Settings) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings

    async def _pending(self, media_id: int) -> Any | None:
        async with self.db.read() as conn:
            return (await conn.execute(select(media_attachments).where(
                media_attachments.c.id == media_id, media_attachments.c.state == "processing"))).first()

    async def handle(self, job: Job) -> None:
        media = await self._pending(int(job.payload["media_id"]))
        if media is None:  # removed, or finished by an earlier run that died before settling its job
            return
        started = time.perf_counter()
        try:
            with tempfile.TemporaryDirectory(prefix="stoa-media-") as work:
                outcome = await self._transcode(media, Path(work))
                if outcome.get("ok"):
                    await self._finish(media, Path(work), outcome)
                    JOBS.labels("ready").inc()
                    log.info("media_ready", media_id=str(media.id), type=media.type, attempt=job.attempts,
                             seconds=round(time.perf_counter() - started, 2), **outcome["video"])
                elif "error" in outcome:
                    await self._fail(media, outcome["error"], job.attempts)
                    JOBS.labels("refused").inc()
                else:
                    JOBS.labels("crashed").inc()
                    raise TranscoderCrashed(f"the transcoder of media {media.id} crashed or timed out")
        finally:
            SECONDS.observe(time.perf_counter() - started)

    async def gave_up(self, job: Job, reason: str) -> None:
        media = await self._pending(int(job.payload["media_id"]))
        if media is not None:
            await self._fail(media, GAVE_UP, job.attempts)
            JOBS.labels("gave_up").inc()

    async def _transcode(self, media: Any, work: Path) -> dict[str, Any]:
        source = self.storage.local_path(media.source)
        if source is None:
            source = work / "source"
            try:
                await asyncio.to_thread(self.storage.fetch, media.source, source)
            except Exception:
                log.exception("media_source_missing", media_id=str(media.id))
                return {"error": "The uploaded file is no longer available; upload it again"}
        out_dir = work / "out"
        out_dir.mkdir()
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "stoa.media.video", str(source), str(out_dir),
            "--max-lines", str(self.settings.video_max_lines),
            "--max-seconds", str(self.settings.max_video_seconds),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        try:
            stdout, stderr = await asyncio.wait_for(child.communicate(),
                                                    timeout=self.settings.media_job_timeout_seconds)
        except TimeoutError:
            child.kill()
            await child.wait()
            log.warning("media_job_timeout", media_id=str(media.id))
            return {"crashed": True}
        PEAK_RSS.set(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
        if child.returncode in (0, 2):
            try:
                result: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
                return result
            except (ValueError, IndexError):
                pass
        log.warning("media_transcoder_crashed", media_id=str(media.id), returncode=child.returncode,
                    stderr=stderr.decode(errors="replace")[-2000:])
        return {"crashed": True}

    async def _finish(self, media: Any, work: Path, outcome: dict[str, Any]) -> None:
        out = work / "out"
        file = await asyncio.to_thread(self.storage.put_file, out / "video.mp4", "mp4", "media")
        preview_name = outcome["preview"]
        preview = await asyncio.to_thread(self.storage.put_file, out / preview_name,
                                          preview_name.rsplit(".", 1)[1], "previews")
        info = outcome["video"]
        pw, ph = outcome["preview_size"]
        meta = {
            "length": _clock(info["duration"]), "duration": info["duration"], "fps": _fps(info["frame_rate"]),
            "size": f"{info['width']}x{info['height']}", "width": info["width"], "height": info["height"],
            "aspect": round(info["width"] / info["height"], 4), "audio_encode": "aac" if info["has_audio"] else None,
            "original": {"width": info["width"], "height": info["height"], "frame_rate": info["frame_rate"],
                         "duration": info["duration"], "bitrate": info["bitrate"]},
            "small": {"width": pw, "height": ph, "size": f"{pw}x{ph}", "aspect": round(pw / ph, 4)},
        }
        async with self.db.write() as conn:
            await conn.execute(update(media_attachments).where(
                media_attachments.c.id == media.id, media_attachments.c.state == "processing").values(
                state="ready", file=file, preview=preview, content_type="video/mp4", meta=meta,
                blurhash=outcome["blurhash"], source=None, error=None))
        await self._drop_source(media.source)

    async def _fail(self, media: Any, message: str, attempts: int) -> None:
        async with self.db.write() as conn:
            await conn.execute(update(media_attachments).where(
                media_attachments.c.id == media.id, media_attachments.c.state == "processing").values(
                state="failed", error=message, source=None))
        log.info("media_failed", media_id=str(media.id), reason=message, attempts=attempts)
        await self._drop_source(media.source)

    async def _drop_source(self, source: str | None) -> None:
        """The upload as received is private and only needed until processed; keep it while another job needs it."""
        if source is None:
            return
        async with self.db.read() as conn:
            still_needed = (await conn.execute(select(media_attachments.c.id).where(
                media_attachments.c.source == source).limit(1))).first()
        if still_needed is None:
            await asyncio.to_thread(self.storage.delete, source)


def _clock(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def _fps(rate: str) -> int:
    num, _, den = rate.partition("/")
    return round(int(num) / int(den or 1))
