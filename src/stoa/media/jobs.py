"""Durable media jobs: transcode queued videos and animated GIFs, surviving crashes and kills.

The job is the attachment row itself (``state = 'processing'``). A worker claims one by taking a
lease (``lease_until``) in a conditional UPDATE, so several workers on several machines share the
queue and never run the same job twice at once. While it works it renews the lease; if it dies
(crash, SIGKILL, power cut) the lease runs out and another worker (or the same one, restarted)
takes the job again. Each claim counts an attempt; after ``media_job_attempts`` the attachment is
marked ``failed`` so a poisonous file cannot loop forever.

The transcode runs in a child process (``python -m stoa.media.video``): FFmpeg decoding
untrusted input can crash or exhaust memory, and that must cost a child, never the worker. The
child writes into a private temporary directory; only when it has finished are the outputs put
into storage (atomically, content-addressed) and the row switched to ``ready`` in one UPDATE,
so no half-written file is ever served.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import and_, or_, select, update

from stoa.config import Settings
from stoa.media.storage import Storage
from stoa.store.database import Database
from stoa.store.schema import media_attachments

log = structlog.get_logger(__name__)

JOBS = Counter("stoa_media_jobs_total", "Media jobs finished, by outcome", ["outcome"])
SECONDS = Histogram("stoa_media_job_seconds", "Wall time of a media job (transcode and store)",
                    buckets=(0.5, 1, 2, 5, 10, 20, 40, 80, 160, 320))
PEAK_RSS = Gauge("stoa_media_transcoder_peak_rss_bytes", "Largest resident memory of a transcoding child so far")


class MediaJobs:
    """Runs one region's media jobs, one at a time per worker process."""

    def __init__(self, db: Database, storage: Storage, settings: Settings) -> None:
        self.db = db
        self.storage = storage
        self.settings = settings
        self.lease = timedelta(seconds=settings.media_job_lease_seconds)

    async def run_forever(self, poll_seconds: float = 1.0) -> None:
        wakeup = self.db.subscribe_wakeups()
        while True:
            wakeup.clear()
            try:
                job = await self.claim()
                if job is not None:
                    await self.process(job)
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("media_job_loop_failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=poll_seconds)

    def _claimable(self, now: datetime) -> Any:
        return and_(media_attachments.c.state == "processing",
                    or_(media_attachments.c.lease_until.is_(None), media_attachments.c.lease_until < now))

    async def claim(self) -> Any | None:
        """Take the oldest job nobody holds; None when there is none."""
        now = datetime.now(UTC)
        async with self.db.read() as conn:
            candidates = (await conn.execute(select(media_attachments.c.id).where(self._claimable(now))
                                             .order_by(media_attachments.c.id).limit(5))).scalars().all()
        for media_id in candidates:
            async with self.db.write() as conn:
                taken = await conn.execute(
                    update(media_attachments).where(media_attachments.c.id == media_id, self._claimable(now))
                    .values(lease_until=now + self.lease, attempts=media_attachments.c.attempts + 1))
                if taken.rowcount == 1:
                    return (await conn.execute(select(media_attachments).where(
                        media_attachments.c.id == media_id))).first()
        return None

    async def process(self, job: Any) -> None:
        started = time.perf_counter()
        if job.attempts > self.settings.media_job_attempts:
            await self._fail(job, "Processing this file failed repeatedly; try another file or format")
            JOBS.labels("gave_up").inc()
            return
        renew = asyncio.create_task(self._keep_lease(job.id))
        try:
            with tempfile.TemporaryDirectory(prefix="stoa-media-") as work:
                outcome = await self._transcode(job, Path(work))
                if outcome.get("ok"):
                    await self._finish(job, Path(work), outcome)
                    JOBS.labels("ready").inc()
                    log.info("media_ready", media_id=str(job.id), type=job.type, attempt=job.attempts,
                             seconds=round(time.perf_counter() - started, 2), **outcome["video"])
                elif "error" in outcome:
                    await self._fail(job, outcome["error"])
                    JOBS.labels("refused").inc()
                else:  # the child crashed or was killed: let the lease lapse at once, and retry
                    await self._release(job.id)
                    JOBS.labels("crashed").inc()
        finally:
            renew.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await renew
            SECONDS.observe(time.perf_counter() - started)

    async def _keep_lease(self, media_id: int) -> None:
        while True:
            await asyncio.sleep(self.lease.total_seconds() / 3)
            async with self.db.write() as conn:
                await conn.execute(update(media_attachments).where(
                    media_attachments.c.id == media_id, media_attachments.c.state == "processing")
                    .values(lease_until=datetime.now(UTC) + self.lease))

    async def _transcode(self, job: Any, work: Path) -> dict[str, Any]:
        source = self.storage.local_path(job.source)
        if source is None:
            source = work / "source"
            try:
                await asyncio.to_thread(self.storage.fetch, job.source, source)
            except Exception:
                log.exception("media_source_missing", media_id=str(job.id))
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
            log.warning("media_job_timeout", media_id=str(job.id))
            return {"crashed": True}
        PEAK_RSS.set(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)
        if child.returncode in (0, 2):
            try:
                result: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
                return result
            except (ValueError, IndexError):
                pass
        log.warning("media_transcoder_crashed", media_id=str(job.id), returncode=child.returncode,
                    stderr=stderr.decode(errors="replace")[-2000:])
        return {"crashed": True}

    async def _finish(self, job: Any, work: Path, outcome: dict[str, Any]) -> None:
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
                media_attachments.c.id == job.id, media_attachments.c.state == "processing").values(
                state="ready", file=file, preview=preview, content_type="video/mp4", meta=meta,
                blurhash=outcome["blurhash"], source=None, lease_until=None, error=None))
        await self._drop_source(job.source)

    async def _fail(self, job: Any, message: str) -> None:
        async with self.db.write() as conn:
            await conn.execute(update(media_attachments).where(
                media_attachments.c.id == job.id, media_attachments.c.state == "processing").values(
                state="failed", error=message, source=None, lease_until=None))
        log.info("media_failed", media_id=str(job.id), reason=message, attempts=job.attempts)
        await self._drop_source(job.source)

    async def _release(self, media_id: int) -> None:
        async with self.db.write() as conn:
            await conn.execute(update(media_attachments).where(media_attachments.c.id == media_id)
                               .values(lease_until=None))

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
