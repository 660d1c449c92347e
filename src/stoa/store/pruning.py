"""The outbox and the counted-events ledger stay bounded: rows no reader needs any more are deleted.

An event row is needed while something may still read it: a consumer of its region (a cursor in the
region's ``consumer_cursors``) or another region's replicator (``replica:<region>`` in that region's
cursors). Once every one of them has passed a row, it is deleted when it is also older than the
retention (``STOA_OUTBOX_RETENTION_HOURS``, a week): the outbox is kept that long so that a projection
can be rebuilt by rewinding its consumer after a bug fix, and so that what happened can be read back
while debugging. A reader with no cursor yet has read nothing, so nothing is pruned until it has run.

The newest event is never deleted: SQLite gives a new row max(id) + 1, so an emptied table would hand
out again ids that every cursor has already passed, and those events would never be delivered.

``counted_events`` lists replicated events whose count change this region applied, so that a replay
applies each once. A replay re-delivers only what is still in the outbox, so the entries below the
oldest event kept go with the events.

A periodic job of each region (``stoa.store.jobs``), assembled by ``stoa.worker``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import delete, func, select

from stoa.store.database import Database
from stoa.store.jobs import Job, JobKind, Periodic, Registry
from stoa.store.replication import replica_cursor
from stoa.store.schema import consumer_cursors, counted_events, events

log = structlog.get_logger(__name__)
PRUNE = "outbox.prune"  # the job kind, run once per PRUNE_SECONDS in each region
PRUNE_SECONDS = 60.0
BATCH = 5000  # events deleted per transaction: SQLite's one writer is never held long


async def _lowest_position(db: Database, names: Sequence[str]) -> int:
    """The lowest position among these cursors of ``db`` (0 when one of them does not exist yet)."""
    if not names:
        return 2**63 - 1
    async with db.read() as conn:
        positions = {r.name: int(r.position) for r in await conn.execute(
            select(consumer_cursors.c.name, consumer_cursors.c.position).where(consumer_cursors.c.name.in_(names)))}
    return min(positions.get(name, 0) for name in names)


async def horizon(db: Database, region: str, readers: Sequence[str], replicas: Sequence[Database]) -> int:
    """The highest event id of ``db``'s outbox that every reader has passed: the region's consumers
    (``readers``, by name) and the replicators of the other regions (their databases, ``replicas``)."""
    lowest = await _lowest_position(db, readers)
    for other in replicas:
        lowest = min(lowest, await _lowest_position(other, [replica_cursor(region)]))
    return lowest


async def prune_once(db: Database, region: str, readers: Sequence[str], replicas: Sequence[Database],
                     keep: timedelta, now: datetime | None = None) -> tuple[int, int]:
    """Delete the events every reader has passed and older than ``keep``, then the counted-events
    entries no replay can reach; returns how many of each."""
    passed = await horizon(db, region, readers, replicas)
    cutoff = (now or datetime.now(UTC)) - keep
    pruned = 0
    while True:
        async with db.write() as conn:
            newest = (await conn.execute(select(func.max(events.c.id)))).scalar() or 0
            upto = min(passed, newest - 1)
            batch = select(events.c.id).where(events.c.id <= upto, events.c.created_at < cutoff) \
                .order_by(events.c.id).limit(BATCH).scalar_subquery()
            deleted = (await conn.execute(delete(events).where(events.c.id.in_(batch)))).rowcount or 0
        pruned += deleted
        if deleted < BATCH:
            break
    async with db.write() as conn:
        oldest = select(func.min(events.c.id)).scalar_subquery()
        forgotten = (await conn.execute(delete(counted_events).where(counted_events.c.event_id < oldest))).rowcount
    return pruned, forgotten or 0


def register(registry: Registry, db: Database, region: str, *, readers: Sequence[str],
             replicas: Sequence[Database], keep: timedelta) -> None:
    """The pruning as a job kind of one region. A failed run (another region unreachable, say) is not
    kept: the next period tries again."""

    async def prune(_job: Job) -> None:
        events_pruned, counted_pruned = await prune_once(db, region, readers, replicas, keep)
        if events_pruned or counted_pruned:
            log.info("outbox_pruned", region=region, events=events_pruned, counted_events=counted_pruned)

    registry.register(JobKind(PRUNE, prune, max_attempts=1, keep_dead=False, lease_seconds=300.0))


def schedule(interval_seconds: float = PRUNE_SECONDS) -> Periodic:
    return Periodic(PRUNE, PRUNE, timedelta(seconds=interval_seconds))
