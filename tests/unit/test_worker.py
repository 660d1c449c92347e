"""The background work: assembled once (stoa.worker) for `stoa serve` and `stoa worker`; `stoa jobs` inspects it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from stoa import worker
from stoa.cli import app
from stoa.config import Settings
from stoa.store.database import Database
from stoa.store.jobs import GiveUp, Job, JobKind, JobRunner, Registry, enqueue
from stoa.store.schema import job_schedules, media_attachments
from tests.helpers import AppClient, sign_up
from tests.media_samples import make_video


def test_the_worker_does_not_load_the_web_application() -> None:
    probe = "import sys, stoa.worker; print('stoa.app' in sys.modules, 'fastapi' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": str(Path(worker.__file__).parents[1])})
    assert out.stdout.split() == ["False", "False"]


def test_every_region_runs_every_job_kind_and_schedule(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, recsys_retrain_hours=6)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}")
    kinds = {kind.name for kind in worker.job_registry(settings, db, "local", readers=[], replicas=[]).kinds}
    assert kinds == {"media.transcode", "maintenance.sweep", "feeds.prune", "recsys.retrain", "outbox.prune"}
    assert {s.kind for s in worker.schedules(settings)} == {
        "maintenance.sweep", "feeds.prune", "recsys.retrain", "outbox.prune"}
    assert {s.kind for s in worker.schedules(Settings(data_dir=tmp_path, recsys_retrain_hours=0))} == {
        "maintenance.sweep", "feeds.prune", "outbox.prune"}


async def test_embedded_workers_transcode_uploads_and_sweep(client: AppClient, settings: Settings,
                                                            tmp_path: Path) -> None:
    store, hub = client.store, client.hub
    tasks = worker.start(settings, store, hub)  # what `stoa serve` starts beside the routes
    try:
        alice = await sign_up(client, "alice")
        clip = make_video(tmp_path / "clip.mp4", seconds=0.5).read_bytes()
        accepted = await client.post("/api/v2/media", headers=alice.headers,
                                     files={"file": ("clip.mp4", clip, "video/mp4")})
        assert accepted.status_code == 202
        async with asyncio.timeout(60):  # a client polls until processed, as Mastodon apps do
            for _ in range(300):
                polled = await client.get(f"/api/v1/media/{accepted.json()['id']}", headers=alice.headers)
                if polled.status_code != 206:
                    break
                await asyncio.sleep(0.2)
        assert polled.status_code == 200
        async with store.db.read() as conn:
            assert (await conn.execute(select(media_attachments.c.state))).scalars().all() == ["ready"]
            swept = (await conn.execute(select(job_schedules.c.name))).scalars().all()
        assert "maintenance.sweep" in swept  # the housekeeping sweep ran on its schedule too
    finally:
        await worker.stop(tasks)


async def _bury_one(db: Database) -> int:
    async def refuse(_job: Job) -> None:
        raise GiveUp("the remote server answered 410 Gone")

    async with db.write() as conn:
        job_id = await enqueue(conn, "deliver", {"inbox": "https://example.org/inbox"}, key="example.org")
    registry = Registry()
    registry.register(JobKind("deliver", refuse))
    assert await JobRunner(db, registry).run_once()
    assert job_id is not None
    return job_id


def test_operators_list_dead_jobs_and_retry_them(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STOA_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("STOA_DATA_DIR", str(settings.data_dir))

    async def bury() -> int:
        db = Database(settings.resolved_database_url)
        try:
            return await _bury_one(db)
        finally:
            await db.dispose()

    job_id = asyncio.run(bury())
    cli = CliRunner()
    listed = cli.invoke(app, ["jobs", "list", "--state", "dead"], env=dict(os.environ))
    assert listed.exit_code == 0 and "deliver" in listed.output and "410 Gone" in listed.output
    assert cli.invoke(app, ["jobs", "list", "--state", "lost"], env=dict(os.environ)).exit_code == 2
    unknown = cli.invoke(app, ["jobs", "retry", str(job_id), "--region", "mars"], env=dict(os.environ))
    assert unknown.exit_code == 2 and "mars" in unknown.output
    retried = cli.invoke(app, ["jobs", "retry", str(job_id)], env=dict(os.environ))
    assert retried.exit_code == 0 and "queued again" in retried.output
    assert "queued" in cli.invoke(app, ["jobs", "list"], env=dict(os.environ)).output
    again = cli.invoke(app, ["jobs", "retry", str(job_id)], env=dict(os.environ))
    assert again.exit_code == 1 and f"No dead job {job_id}" in again.output
