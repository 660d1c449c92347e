"""Durable jobs: leases and their expiry, retries with backoff, dead letters, per-key limits, dedupe, schedules."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text, update

from stoa.config import Settings
from stoa.store.database import Database
from stoa.store.jobs import (
    DEAD,
    QUEUED,
    RUNNING,
    AlreadyQueued,
    GiveUp,
    Job,
    JobKind,
    JobRunner,
    Periodic,
    Registry,
    Scheduler,
    backoff,
    enqueue,
    retry_dead,
    utcnow,
)
from stoa.store.schema import jobs


class FakeClock:
    def __init__(self) -> None:
        self.now = utcnow() + timedelta(seconds=1)  # just after the jobs a test queues (on the real clock)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Database]:
    database = Database(settings.resolved_database_url)
    yield database
    await database.dispose()


async def _rows(db: Database) -> list[Any]:
    async with db.read() as conn:
        return list((await conn.execute(select(jobs).order_by(jobs.c.id))).all())


async def _queue(db: Database, kind: str, count: int = 1, **options: Any) -> list[int | None]:
    async with db.write() as conn:
        return [await enqueue(conn, kind, {"n": i}, **options) for i in range(count)]


def _registry(*kinds: JobKind) -> Registry:
    registry = Registry()
    for kind in kinds:
        registry.register(kind)
    return registry


async def _nothing(_job: Job) -> None:
    return None


async def test_a_job_exists_only_if_its_transaction_committed(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.write() as conn:
            await enqueue(conn, "mail.send", {"to": "a"})
            raise RuntimeError("the change failed")
    assert await _rows(db) == []
    await _queue(db, "mail.send")
    [row] = await _rows(db)
    assert (row.kind, row.state, row.attempts, row.payload) == ("mail.send", QUEUED, 0, {"n": 0})


async def test_an_expired_lease_hands_the_job_to_another_worker(db: Database) -> None:
    clock = FakeClock()
    ran: list[int] = []

    async def handle(job: Job) -> None:
        ran.append(job.attempts)

    registry = _registry(JobKind("mail.send", handle, lease_seconds=30))
    first, second = JobRunner(db, registry, clock=clock), JobRunner(db, registry, clock=clock)
    await _queue(db, "mail.send")
    held = await first.claim()
    assert held is not None and held.attempts == 1
    assert await second.claim() is None  # leased
    clock.advance(29)
    assert await second.claim() is None
    clock.advance(2)  # the first worker went silent past its lease
    taken = await second.claim()
    assert taken is not None and taken.id == held.id and taken.attempts == 2
    await first.run(held)  # the first worker wakes up and finishes late: the job is no longer its to settle
    [row] = await _rows(db)
    assert row.state == RUNNING and row.lease_token == taken.lease_token
    await second.run(taken)
    assert ran == [1, 2] and await _rows(db) == []


async def test_a_running_job_keeps_its_lease(db: Database) -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(_job: Job) -> None:
        started.set()
        await release.wait()

    registry = _registry(JobKind("slow", slow, lease_seconds=0.3))
    await _queue(db, "slow")
    runner, other = JobRunner(db, registry), JobRunner(db, registry)
    job = await runner.claim()
    assert job is not None
    running = asyncio.create_task(runner.run(job))
    await started.wait()
    await asyncio.sleep(0.8)  # well past the first lease: renewed meanwhile
    assert await other.claim() is None
    release.set()
    await running
    assert await _rows(db) == []


async def test_failures_back_off_exponentially_with_full_jitter_then_go_dead(db: Database) -> None:
    clock = FakeClock()
    told: list[tuple[int, str]] = []

    async def failing(_job: Job) -> None:
        raise ConnectionError("host unreachable")

    async def on_dead(job: Job, reason: str) -> None:
        told.append((job.id, reason))

    kind = JobKind("deliver", failing, max_attempts=4, backoff_base=10, backoff_cap=25, on_dead=on_dead)
    runner = JobRunner(db, _registry(kind), clock=clock, rng=random.Random(3))
    [job_id] = await _queue(db, "deliver")
    expected = random.Random(3)
    for attempt, ceiling in ((1, 10), (2, 20), (3, 25)):  # base * 2 ** (attempt - 1), capped
        assert await runner.run_once()
        [row] = await _rows(db)
        delay = expected.uniform(0, ceiling)
        assert row.state == QUEUED and row.attempts == attempt and "host unreachable" in row.last_error
        waited = (row.run_after.replace(tzinfo=clock.now.tzinfo) - clock.now).total_seconds()
        assert waited == pytest.approx(delay, abs=0.01)
        clock.advance(waited - 0.5)
        assert await runner.claim() is None  # not before its time
        clock.advance(1)
    assert await runner.run_once()
    [row] = await _rows(db)
    assert row.state == DEAD and row.attempts == 4 and row.finished_at is not None  # kept, to be read
    assert told == [(job_id, "ConnectionError: host unreachable")]
    assert await runner.claim() is None


def test_backoff_is_bounded_and_spread() -> None:
    kind = JobKind("x", _nothing, backoff_base=1, backoff_cap=60)
    rng = random.Random(1)
    for attempts in range(1, 12):
        delays = [backoff(kind, attempts, rng) for _ in range(200)]
        ceiling = min(60, 2 ** (attempts - 1))
        assert min(delays) >= 0 and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 2  # jittered over the whole range, not clustered


async def test_give_up_and_a_worker_crashing_every_time_go_straight_to_dead(db: Database) -> None:
    clock = FakeClock()
    ran: list[int] = []

    async def refuse(_job: Job) -> None:
        ran.append(1)
        raise GiveUp("410 Gone")

    registry = _registry(JobKind("refuse", refuse, max_attempts=5), JobKind("crash", _nothing, max_attempts=2,
                                                                          lease_seconds=10))
    await _queue(db, "refuse")
    assert await JobRunner(db, registry, ["refuse"], clock=clock).run_once()
    [refused] = await _rows(db)
    assert refused.state == DEAD and refused.attempts == 1 and refused.last_error == "410 Gone"

    await _queue(db, "crash")
    crasher = JobRunner(db, registry, ["crash"], clock=clock)
    for _ in range(2):  # claimed, then the worker is killed before it reports anything
        assert await crasher.claim() is not None
        clock.advance(11)
    assert await crasher.claim() is None  # the third claim buries it instead of running it again
    crashed = (await _rows(db))[1]
    assert crashed.state == DEAD and crashed.attempts == 2 and "stopped each time" in crashed.last_error


async def test_a_kind_that_keeps_no_dead_letters_deletes_a_given_up_job(db: Database) -> None:
    async def failing(_job: Job) -> None:
        raise ValueError("broken")

    await _queue(db, "sweep")
    assert await JobRunner(db, _registry(JobKind("sweep", failing, max_attempts=1, keep_dead=False))).run_once()
    assert await _rows(db) == []


async def test_dedupe_keeps_one_live_job_per_key(db: Database) -> None:
    first, again = await _queue(db, "transcode", 2, dedupe_key="media:7")
    assert first is not None and again is None
    assert [r.id for r in await _rows(db)] == [first]

    async def failing(_job: Job) -> None:
        raise GiveUp("bad file")

    registry = _registry(JobKind("transcode", failing))
    assert await JobRunner(db, registry).run_once()  # dead now: a dead job does not hold its key
    [fresh] = await _queue(db, "transcode", dedupe_key="media:7")
    assert fresh is not None and fresh != first
    with pytest.raises(AlreadyQueued):
        await retry_dead(db, first)
    async with db.write() as conn:
        await conn.execute(jobs.delete().where(jobs.c.id == fresh))
    assert await retry_dead(db, first)
    assert not await retry_dead(db, first)  # no longer dead
    row = next(r for r in await _rows(db) if r.id == first)
    assert row.state == QUEUED and row.attempts == 0


async def test_a_busy_key_does_not_hold_up_other_keys(db: Database) -> None:
    registry = _registry(JobKind("deliver", _nothing, per_key_limit=2))
    await _queue(db, "deliver", 5, key="slow.example")
    await _queue(db, "deliver", 1, key="fast.example")
    await _queue(db, "deliver", 1)  # no key: no limit
    runner = JobRunner(db, registry)
    claimed = [await runner.claim() for _ in range(5)]
    keys = [job.key if job else None for job in claimed]
    assert keys[:4].count("slow.example") == 2 and "fast.example" in keys[:4] and claimed[3] is not None
    assert claimed[4] is None  # the slow host is at its limit; everything else is running
    running = Counter(r.key for r in await _rows(db) if r.state == RUNNING)
    assert running == {"slow.example": 2, "fast.example": 1, None: 1}


async def test_concurrent_workers_run_each_job_once_and_respect_the_key_limit(db: Database,
                                                                             settings: Settings) -> None:
    limit, hosts, per_host = 2, ("a.example", "b.example", "c.example"), 8
    in_flight: Counter[str] = Counter()
    peak: Counter[str] = Counter()
    running_ids: set[int] = set()
    runs: Counter[int] = Counter()

    overlaps: list[int] = []
    all_ran = asyncio.Event()

    async def deliver(job: Job) -> None:
        assert job.key is not None
        if job.id in running_ids:
            overlaps.append(job.id)  # a job running twice at once
        running_ids.add(job.id)
        in_flight[job.key] += 1
        peak[job.key] = max(peak[job.key], in_flight[job.key])
        await asyncio.sleep(0.02)
        in_flight[job.key] -= 1
        running_ids.discard(job.id)
        runs[job.id] += 1
        if sum(runs.values()) == len(hosts) * per_host:
            all_ran.set()

    for host in hosts:
        await _queue(db, "deliver", per_host, key=host)
    # Separate databases (connection pools), as separate worker processes have, each running 3 at once.
    workers = [Database(settings.resolved_database_url) for _ in range(4)]
    registry = _registry(JobKind("deliver", deliver, per_key_limit=limit))
    loops = [asyncio.create_task(JobRunner(w, registry, concurrency=3).run_forever(poll_seconds=0.02))
             for w in workers]
    try:
        async with asyncio.timeout(60):
            await all_ran.wait()
        await asyncio.sleep(0.2)  # and nothing runs a second time once the queue is empty
    finally:
        for loop in loops:
            loop.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        for w in workers:
            await w.dispose()
    assert overlaps == []
    assert len(runs) == len(hosts) * per_host and set(runs.values()) == {1}
    assert max(peak.values()) <= limit
    assert max(peak.values()) == limit  # and the workers did run a key's jobs side by side


async def test_a_periodic_job_is_queued_once_per_period_by_many_schedulers(db: Database) -> None:
    clock = FakeClock()
    sweep = Periodic("sweep", "maintenance.sweep", timedelta(seconds=5))
    later = Periodic("retrain", "recsys.retrain", timedelta(hours=1), {"every_hours": 1}, first_run_now=False)
    schedulers = [Scheduler(db, [sweep, later], clock=clock) for _ in range(3)]
    ticks = await asyncio.gather(*[s.tick() for s in schedulers])
    assert sorted(ticks) == [[], [], ["sweep"]]  # the sweep at once; the retraining after its first period
    clock.advance(6)
    assert sorted(await asyncio.gather(*[s.tick() for s in schedulers])) == [[], [], []]  # still queued: no second
    runner = JobRunner(db, _registry(JobKind("maintenance.sweep", _nothing), JobKind("recsys.retrain", _nothing)),
                       clock=clock)
    assert await runner.run_once()
    clock.advance(5)
    assert sorted(await asyncio.gather(*[s.tick() for s in schedulers])) == [[], [], ["sweep"]]
    clock.advance(3600)
    assert sorted(await asyncio.gather(*[s.tick() for s in schedulers])) == [[], [], ["retrain"]]
    assert sorted(r.kind for r in await _rows(db)) == ["maintenance.sweep", "recsys.retrain"]
    retrain = next(r for r in await _rows(db) if r.kind == "recsys.retrain")
    assert retrain.payload == {"every_hours": 1}


async def test_a_job_kind_is_registered_once() -> None:
    registry = _registry(JobKind("a", _nothing))
    with pytest.raises(ValueError, match="twice"):
        registry.register(JobKind("a", _nothing))


def test_media_jobs_and_the_retraining_schedule_survive_the_upgrade(backend: str, tmp_path: Path) -> None:
    """A store from before the job queue: a video still processing becomes a queued transcode job with its
    attempts, and the last scheduled retraining keeps its time."""
    from stoa.store.migrate import upgrade
    from tests.databases import database_url, dispose_url

    url = database_url(backend, tmp_path)
    settings = Settings(data_dir=tmp_path, database_url=url)
    last_retrained = 1_764_000_000
    try:
        upgrade(settings, "0019")

        async def seed() -> None:
            db = Database(url)
            async with db.write() as conn:
                await conn.execute(text(
                    "INSERT INTO accounts (id, username, username_lower, display_name, note, fields, locked, bot,"
                    " discoverable, region, followers_count, following_count, statuses_count, created_at,"
                    " updated_at) VALUES (1, 'old', 'old', 'Old', '', '[]', false, false, true, 'local', 0, 0, 0,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"))
                for media_id, state in ((10, "processing"), (11, "ready")):
                    await conn.execute(text(
                        "INSERT INTO media_attachments (id, account_id, type, content_type, meta, description,"
                        " focus_x, focus_y, created_at, state, source, attempts) VALUES (:id, 1, 'video',"
                        " 'video/mp4', '{}', '', 0, 0, CURRENT_TIMESTAMP, :state, 'incoming/x.upload', 2)"),
                        {"id": media_id, "state": state})
                await conn.execute(text("INSERT INTO consumer_cursors (name, position, updated_at) VALUES"
                                        " ('recsys_retrain', :at, CURRENT_TIMESTAMP)"), {"at": last_retrained})
            await db.dispose()

        async def read() -> tuple[list[Any], list[Any]]:
            db = Database(url)
            async with db.read() as conn:
                found = list((await conn.execute(select(jobs))).all())
                schedules = list((await conn.execute(text("SELECT name, last_run_at FROM job_schedules"))).all())
            await db.dispose()
            return found, schedules

        asyncio.run(seed())
        upgrade(settings)
        found, schedules = asyncio.run(read())
        assert [(j.kind, j.payload, j.state, j.attempts, j.dedupe_key) for j in found] == [
            ("media.transcode", {"media_id": 10}, QUEUED, 2, "media:10")]
        [(name, at)] = schedules
        moment = at if isinstance(at, datetime) else datetime.fromisoformat(str(at))  # SQLite: text, in UTC
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        assert name == "recsys.retrain" and int(moment.timestamp()) == last_retrained
    finally:
        dispose_url(backend, url)


async def test_settling_is_conditional_on_the_lease(db: Database) -> None:
    """A job someone else now holds is left alone by the late worker's failure report too."""
    clock = FakeClock()

    async def failing(_job: Job) -> None:
        raise RuntimeError("late")

    registry = _registry(JobKind("x", failing, lease_seconds=5, max_attempts=1))
    await _queue(db, "x")
    late = JobRunner(db, registry, clock=clock)
    job = await late.claim()
    assert job is not None
    async with db.write() as conn:  # another worker took it over meanwhile
        await conn.execute(update(jobs).values(lease_token="someone-else"))
    await late.run(job)
    [row] = await _rows(db)
    assert row.state == RUNNING and row.lease_token == "someone-else"
