"""Durable jobs: work that must reach something slow or unreliable, leased, retried with backoff, dead-lettered.

A job is a row of ``jobs``. :func:`enqueue` inserts it inside the caller's write transaction, so a job
exists if and only if the change that asked for it committed. A :class:`JobRunner` claims a due job by
taking a lease (``lease_until``, with a token only its holder knows) and renews the lease while the
handler runs; if the worker dies (crash, SIGKILL, power cut) the lease runs out and another worker, or
the same one restarted, claims the job again. Every claim counts an attempt. A handler that raises is
retried after an exponential backoff with full jitter (a random delay between 0 and
``base * 2 ** (attempts - 1)``, capped), so a thousand jobs failing on one dead host do not all come back
at the same moment. After ``max_attempts`` the job is dead: kept (``state = 'dead'``) with its last
error for an operator to read and retry (``stoa jobs list``/``retry``), and the kind's ``on_dead`` hook
tells the domain it gave up.

On PostgreSQL, claims take rows ``FOR UPDATE SKIP LOCKED``, so workers on many machines share the
queue without waiting on one another; SQLite's single writer serialises claims by itself. A kind may
cap how many of its jobs run at once for one ``key`` (a remote host, say): the claim skips keys at
their limit, and re-counts under a per-key advisory lock, so the limit holds whatever the number of
workers. A ``dedupe_key`` keeps at most one live (queued or running) job per key.

Job kinds are registered by name in a :class:`Registry`; the domain packages fill it (the store knows
no domain). :class:`Scheduler` turns a :class:`Periodic` schedule into one job per period, recorded in
``job_schedules`` so that several workers enqueue it once.

Every time is read from an injected clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import structlog
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import and_, case, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from stoa.store.database import Connection, Database
from stoa.store.schema import job_schedules, jobs

log = structlog.get_logger(__name__)

QUEUED, RUNNING, DEAD = "queued", "running", "dead"
KEY_LOCK = 0x570B  # first half of the pg_try_advisory_xact_lock pair that serialises claims of one key
CANDIDATES = 10  # due jobs looked at per claim (some may be at their key's limit)

FINISHED = Counter("stoa_jobs_finished_total", "Job runs finished, by kind and outcome (succeeded, failed: "
                   "will be retried, dead: given up)", ["kind", "outcome"])
RUNNING_HERE = Gauge("stoa_jobs_running", "Jobs this process is running now", ["kind"])
IN_STORE = Gauge("stoa_jobs", "Jobs in a region's store, by kind and state", ["region", "kind", "state"])
WAIT = Histogram("stoa_job_wait_seconds", "From a job falling due to a worker claiming it", ["kind"],
                 buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800))
SECONDS = Histogram("stoa_job_seconds", "Wall time of a job's handler", ["kind"],
                    buckets=(0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900))

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(moment: datetime) -> datetime:
    """SQLite hands timestamps back without their zone; every time stored here is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Job:
    """A claimed job, as its handler sees it."""
    id: int
    kind: str
    payload: dict[str, Any]
    key: str | None
    attempts: int  # this run included
    lease_token: str


class GiveUp(Exception):
    """Raised by a handler when retrying cannot help: the job goes straight to the dead letters."""


Handler = Callable[[Job], Coroutine[Any, Any, None]]
DeadHook = Callable[[Job, str], Awaitable[None]]


@dataclass(frozen=True)
class JobKind:
    """What a kind of job does and how it is retried."""
    name: str
    handle: Handler
    max_attempts: int = 5
    backoff_base: float = 2.0  # seconds; the n-th retry waits up to base * 2 ** (n - 1)
    backoff_cap: float = 3600.0
    lease_seconds: float = 60.0
    per_key_limit: int | None = None  # at most this many running at once for one key
    concurrency: int = 1  # jobs of this kind one worker process runs at once
    on_dead: DeadHook | None = None  # told (after the commit) when a job is given up
    keep_dead: bool = True  # False: a given-up job is logged and deleted (periodic sweeps retry next period)


class Registry:
    """The job kinds one region's workers run, by name."""

    def __init__(self) -> None:
        self._kinds: dict[str, JobKind] = {}

    def register(self, kind: JobKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"job kind {kind.name!r} is registered twice")
        self._kinds[kind.name] = kind

    def __getitem__(self, name: str) -> JobKind:
        return self._kinds[name]

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    @property
    def kinds(self) -> list[JobKind]:
        return list(self._kinds.values())


def _insert(conn: Connection) -> Any:
    return (postgresql.insert(jobs) if conn.dialect.name == "postgresql" else sqlite.insert(jobs))


async def enqueue(conn: Connection, kind: str, payload: dict[str, Any] | None = None, *, key: str | None = None,
                  dedupe_key: str | None = None, run_after: datetime | None = None,
                  now: datetime | None = None) -> int | None:
    """Queue a job inside the caller's write transaction; its id, or None when a live job has ``dedupe_key``.

    After the commit, ``db.wake()`` starts this process's runners at once; others find it when they poll.
    """
    now = now or utcnow()
    statement = _insert(conn).values(kind=kind, payload=payload or {}, state=QUEUED, key=key, dedupe_key=dedupe_key,
                                     attempts=0, run_after=run_after or now, created_at=now)
    if dedupe_key is not None:
        statement = statement.on_conflict_do_nothing()
    job_id = (await conn.execute(statement.returning(jobs.c.id))).scalar()
    return None if job_id is None else int(job_id)


def backoff(kind: JobKind, attempts: int, rng: random.Random) -> float:
    """Seconds to wait before the next try: full jitter over an exponential ceiling."""
    ceiling = min(kind.backoff_cap, kind.backoff_base * 2 ** max(0, attempts - 1))
    return rng.uniform(0, ceiling)


class JobRunner:
    """Claims and runs one region's jobs of some kinds, ``concurrency`` at a time."""

    def __init__(self, db: Database, registry: Registry, kinds: Iterable[str] | None = None, *,
                 concurrency: int = 1, clock: Clock = utcnow, rng: random.Random | None = None) -> None:
        self.db = db
        self.registry = registry
        self.kinds = list(kinds) if kinds is not None else [k.name for k in registry.kinds]
        self.concurrency = concurrency
        self.clock = clock
        self.rng = rng or random.Random()

    # --- claiming --------------------------------------------------------------------------------

    def _claimable(self, now: datetime) -> Any:
        due = or_(and_(jobs.c.state == QUEUED, jobs.c.run_after <= now),
                  and_(jobs.c.state == RUNNING, jobs.c.lease_until < now))  # its worker went silent
        condition = and_(jobs.c.kind.in_(self.kinds), due)
        limits = {name: self.registry[name].per_key_limit for name in self.kinds
                  if self.registry[name].per_key_limit is not None}
        if limits:
            other = jobs.alias("other")
            running = (select(func.count()).select_from(other)
                       .where(other.c.key == jobs.c.key, other.c.state == RUNNING, other.c.lease_until >= now)
                       .scalar_subquery())
            limit = case(limits, value=jobs.c.kind, else_=None)
            condition = and_(condition, or_(jobs.c.key.is_(None), limit.is_(None), running < limit))
        return condition

    async def claim(self) -> Job | None:
        """Lease the next due job of our kinds; None when there is none (or every due key is at its limit)."""
        now = self.clock()
        async with self.db.read() as conn:  # look before taking a write transaction: most polls find nothing
            if (await conn.execute(select(jobs.c.id).where(self._claimable(now)).limit(1))).first() is None:
                return None
        buried: list[tuple[Job, str]] = []
        claimed: Job | None = None
        async with self.db.write() as conn:
            query = (select(jobs.c.id, jobs.c.kind, jobs.c.key, jobs.c.attempts, jobs.c.payload, jobs.c.run_after,
                            jobs.c.state)
                     .where(self._claimable(now)).order_by(jobs.c.run_after, jobs.c.id).limit(CANDIDATES))
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True, of=jobs)
            for row in (await conn.execute(query)).all():
                kind = self.registry[row.kind]
                job = Job(int(row.id), row.kind, dict(row.payload or {}), row.key, int(row.attempts) + 1,
                          secrets.token_hex(8))
                if job.attempts > kind.max_attempts:  # every earlier try died without a word
                    reason = f"gave up after {kind.max_attempts} attempts: the worker stopped each time"
                    await self._bury(conn, job, kind, reason)
                    buried.append((job, reason))
                    continue
                if (job.key is not None and kind.per_key_limit is not None
                        and not await self._room_for_key(conn, job, kind.per_key_limit, now)):
                    continue
                await conn.execute(update(jobs).where(jobs.c.id == job.id).values(
                    state=RUNNING, attempts=job.attempts, lease_until=now + timedelta(seconds=kind.lease_seconds),
                    lease_token=job.lease_token))
                if row.state == QUEUED:
                    WAIT.labels(job.kind).observe(max(0.0, (now - _aware(row.run_after)).total_seconds()))
                claimed = job
                break
        for job, reason in buried:
            await self._after_burial(job, reason)
        return claimed

    async def _room_for_key(self, conn: Connection, job: Job, limit: int, now: datetime) -> bool:
        """Count the key's running jobs again, alone: the candidate query's count was a snapshot."""
        if conn.dialect.name == "postgresql":
            locked = (await conn.execute(text("SELECT pg_try_advisory_xact_lock(:class, hashtext(:key))"),
                                         {"class": KEY_LOCK, "key": job.key})).scalar()
            if not locked:
                return False  # another worker is claiming for this key right now
        running = (await conn.execute(select(func.count()).select_from(jobs).where(
            jobs.c.key == job.key, jobs.c.state == RUNNING, jobs.c.lease_until >= now, jobs.c.id != job.id))).scalar()
        return int(running or 0) < limit

    # --- running and settling --------------------------------------------------------------------

    async def run(self, job: Job) -> None:
        """Run a claimed job's handler while keeping its lease; then record how it went."""
        kind = self.registry[job.kind]
        started = time.perf_counter()
        RUNNING_HERE.labels(job.kind).inc()
        work = asyncio.create_task(kind.handle(job))
        keeper = asyncio.create_task(self._keep_lease(job, kind, work))
        try:
            try:
                await asyncio.shield(work)
            except asyncio.CancelledError:
                if not work.cancelled():  # we are being stopped: the lease lapses and the job is retried
                    work.cancel()
                    raise
                log.warning("job_lease_lost", job_id=job.id, kind=job.kind)  # another worker has it now
                return
            except GiveUp as refused:
                await self._give_up(job, kind, str(refused) or "given up by its handler")
                return
            except Exception as exc:
                log.exception("job_failed", job_id=job.id, kind=job.kind, attempt=job.attempts)
                await self._failed(job, kind, f"{type(exc).__name__}: {exc}")
                return
            await self._succeeded(job)
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            RUNNING_HERE.labels(job.kind).dec()
            SECONDS.labels(job.kind).observe(time.perf_counter() - started)

    async def run_once(self) -> bool:
        """Claim and run one job; False when none was due."""
        job = await self.claim()
        if job is None:
            return False
        await self.run(job)
        return True

    async def _keep_lease(self, job: Job, kind: JobKind, work: asyncio.Task[None]) -> None:
        while True:
            await asyncio.sleep(kind.lease_seconds / 3)
            try:
                async with self.db.write() as conn:
                    renewed = await conn.execute(update(jobs).where(
                        jobs.c.id == job.id, jobs.c.lease_token == job.lease_token).values(
                        lease_until=self.clock() + timedelta(seconds=kind.lease_seconds)))
            except Exception:
                log.exception("job_lease_renewal_failed", job_id=job.id)  # the next renewal may get through
                continue
            if not renewed.rowcount:
                work.cancel()
                return

    def _ours(self, job: Job) -> Any:
        return and_(jobs.c.id == job.id, jobs.c.lease_token == job.lease_token)

    async def _succeeded(self, job: Job) -> None:
        async with self.db.write() as conn:
            await conn.execute(jobs.delete().where(self._ours(job)))
        FINISHED.labels(job.kind, "succeeded").inc()

    async def _failed(self, job: Job, kind: JobKind, error: str) -> None:
        if job.attempts >= kind.max_attempts:
            await self._give_up(job, kind, error)
            return
        retry_at = self.clock() + timedelta(seconds=backoff(kind, job.attempts, self.rng))
        async with self.db.write() as conn:
            await conn.execute(update(jobs).where(self._ours(job)).values(
                state=QUEUED, run_after=retry_at, lease_until=None, lease_token=None, last_error=error[:2000]))
        FINISHED.labels(job.kind, "failed").inc()

    async def _give_up(self, job: Job, kind: JobKind, reason: str) -> None:
        async with self.db.write() as conn:
            if not await self._bury(conn, job, kind, reason, owned=True):
                return  # no longer ours: whoever holds it settles it
        await self._after_burial(job, reason)

    async def _bury(self, conn: Connection, job: Job, kind: JobKind, reason: str, owned: bool = False) -> bool:
        where = self._ours(job) if owned else jobs.c.id == job.id
        if kind.keep_dead:
            done = await conn.execute(update(jobs).where(where).values(
                state=DEAD, attempts=min(job.attempts, kind.max_attempts), lease_until=None, lease_token=None,
                last_error=reason[:2000], finished_at=self.clock()))
        else:
            done = await conn.execute(jobs.delete().where(where))
        return bool(done.rowcount)

    async def _after_burial(self, job: Job, reason: str) -> None:
        FINISHED.labels(job.kind, "dead").inc()
        log.warning("job_dead", job_id=job.id, kind=job.kind, key=job.key, reason=reason)
        hook = self.registry[job.kind].on_dead
        if hook is not None:
            try:
                await hook(job, reason)
            except Exception:
                log.exception("job_dead_hook_failed", job_id=job.id, kind=job.kind)

    # --- the loop --------------------------------------------------------------------------------

    @staticmethod
    def _ran(running: set[asyncio.Task[None]], task: asyncio.Task[None]) -> None:
        running.discard(task)
        if not task.cancelled() and task.exception() is not None:  # the store failed while settling
            log.error("job_settle_failed", exc_info=task.exception())  # its lease lapses: it runs again

    async def run_forever(self, poll_seconds: float = 1.0) -> None:
        """Keep ``concurrency`` jobs running; woken by in-process commits, polling for other processes'."""
        wakeup = self.db.subscribe_wakeups()
        running: set[asyncio.Task[None]] = set()
        try:
            while True:
                wakeup.clear()
                try:
                    while len(running) < self.concurrency and (job := await self.claim()) is not None:
                        task = asyncio.create_task(self.run(job))
                        running.add(task)
                        task.add_done_callback(partial(self._ran, running))
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("job_claim_failed", kinds=self.kinds)
                waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(wakeup.wait()), *running]
                await asyncio.wait(waits, timeout=poll_seconds, return_when=asyncio.FIRST_COMPLETED)
                waits[0].cancel()
        finally:
            for task in running:
                task.cancel()
            for task in list(running):
                with contextlib.suppress(asyncio.CancelledError):
                    await task


# --- periodic jobs ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Periodic:
    """A job enqueued once per period in a region, however many workers run the scheduler."""
    name: str  # durable: the job_schedules row, and the job's dedupe key
    kind: str
    every: timedelta
    payload: dict[str, Any] = field(default_factory=dict)
    first_run_now: bool = True  # False: the first period starts when the schedule is first seen


class Scheduler:
    """Enqueues each schedule's job when its period has passed since the last run (the time is stored)."""

    def __init__(self, db: Database, schedules: Sequence[Periodic], clock: Clock = utcnow) -> None:
        self.db = db
        self.schedules = list(schedules)
        self.clock = clock

    async def tick(self) -> list[str]:
        """Enqueue what is due; the names of the schedules this call enqueued."""
        if not self.schedules:
            return []
        now = self.clock()
        async with self.db.read() as conn:
            last = {r.name: _aware(r.last_run_at) for r in await conn.execute(select(job_schedules).where(
                job_schedules.c.name.in_([s.name for s in self.schedules])))}
        due = [s for s in self.schedules if s.name not in last or last[s.name] <= now - s.every]
        enqueued = []
        if due:
            async with self.db.write() as conn:
                for schedule in due:
                    await conn.execute(self.db.insert_ignore(job_schedules).values(
                        name=schedule.name, last_run_at=now - schedule.every if schedule.first_run_now else now))
                    claimed = await conn.execute(update(job_schedules).where(  # exactly one worker gets through
                        job_schedules.c.name == schedule.name, job_schedules.c.last_run_at <= now - schedule.every)
                        .values(last_run_at=now))
                    if claimed.rowcount and await enqueue(conn, schedule.kind, schedule.payload,
                                                          dedupe_key=f"schedule:{schedule.name}", now=now):
                        enqueued.append(schedule.name)
            if enqueued:
                self.db.wake()
        return enqueued

    async def run_forever(self, tick_seconds: float = 1.0, gauge_seconds: float = 15.0) -> None:
        """Tick forever; now and then refresh the ``stoa_jobs`` gauge of the region's queue too."""
        counted = 0.0
        while True:
            try:
                await self.tick()
                if time.monotonic() - counted >= gauge_seconds:
                    await counts(self.db)
                    counted = time.monotonic()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("job_schedule_failed")
            await asyncio.sleep(tick_seconds)


# --- inspection (metrics, `stoa jobs`) -------------------------------------------------------------

_gauged: set[tuple[str, str]] = set()  # (region, kind) pairs the gauge has shown


async def counts(db: Database) -> dict[tuple[str, str], int]:
    """How many jobs of each (kind, state) the region holds; refreshes the ``stoa_jobs`` gauge."""
    async with db.read() as conn:
        found = {(r.kind, r.state): int(r.n) for r in await conn.execute(
            select(jobs.c.kind, jobs.c.state, func.count().label("n")).group_by(jobs.c.kind, jobs.c.state))}
    _gauged.update((db.name, kind) for kind, _ in found)
    for region, kind in _gauged:  # a kind whose last job just finished reads 0, not its last count
        if region == db.name:
            for state in (QUEUED, RUNNING, DEAD):
                IN_STORE.labels(region, kind, state).set(found.get((kind, state), 0))
    return found


async def listing(db: Database, state: str | None = None, limit: int = 50) -> list[Any]:
    """The newest jobs (of one state), for an operator."""
    query = select(jobs).order_by(jobs.c.id.desc()).limit(limit)
    if state is not None:
        query = query.where(jobs.c.state == state)
    async with db.read() as conn:
        return list((await conn.execute(query)).all())


class AlreadyQueued(ValueError):
    pass


async def retry_dead(db: Database, job_id: int, now: datetime | None = None) -> bool:
    """Put a dead job back in the queue with fresh attempts; False if there is no such dead job."""
    try:
        async with db.write() as conn:
            done = await conn.execute(update(jobs).where(jobs.c.id == job_id, jobs.c.state == DEAD).values(
                state=QUEUED, attempts=0, run_after=now or utcnow(), finished_at=None))
    except IntegrityError:
        raise AlreadyQueued(f"Job {job_id} has the dedupe key of a job already queued or running") from None
    if done.rowcount:
        db.wake()
    return bool(done.rowcount)
