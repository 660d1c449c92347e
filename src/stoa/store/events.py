"""The transactional outbox: every change of state is written with an event.

``emit`` inserts an event row inside the caller's write transaction, so the
event exists if and only if the change committed. Consumers read events in
id order from their own cursor and advance it in the same transaction as the
projection rows they write: at-least-once delivery with idempotent handlers,
restartable after any crash.

On PostgreSQL, sequence values are not handed out in commit order, so a
consumer could skip an event whose transaction commits late. Event inserts
therefore take a transaction-scoped advisory lock first: events become
visible in id order. The lock is held only from the insert to the commit
(callers emit last). SQLite serialises writers anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy import select, text

from stoa.store.database import Connection, Database
from stoa.store.schema import consumer_cursors, events

log = structlog.get_logger(__name__)

OUTBOX_LOCK = 0x570A  # pg_advisory_xact_lock key for ordering event inserts
EVENTS_READ = Counter("stoa_outbox_events_read_total", "Outbox events read by each consumer", ["consumer"])
CONSUMER_POSITION = Gauge("stoa_outbox_consumer_position", "Last outbox event id each consumer finished",
                          ["consumer"])
CONSUMER_FAILURES = Counter("stoa_outbox_batch_failures_total", "Consumer batches that failed and will be retried")


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    payload: dict[str, Any]


async def emit(conn: Connection, type_: str, **payload: Any) -> None:
    """Record an event inside the current write transaction. Call it last."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": OUTBOX_LOCK})
    await conn.execute(events.insert().values(type=type_, payload=payload, created_at=datetime.now(UTC)))


Handler = Callable[[Connection, Sequence[Event]], Awaitable[None]]
AfterCommit = Callable[[Sequence[Event]], Awaitable[None]]


class Consumer:
    """A named, durable reader of the outbox."""

    def __init__(
        self,
        name: str,
        handle: Handler,
        *,
        types: set[str] | None = None,
        after_commit: AfterCommit | None = None,
        batch_size: int = 200,
    ) -> None:
        self.name = name
        self.handle = handle
        self.types = types
        self.after_commit = after_commit
        self.batch_size = batch_size

    async def run_once(self, db: Database) -> int:
        """Process one batch; return how many events were read (0 when caught up)."""
        async with db.write() as conn:
            position = await self._claim(conn, db)
            if position is None:
                return 0  # another worker holds this consumer right now
            rows = (
                await conn.execute(
                    select(events.c.id, events.c.type, events.c.payload)
                    .where(events.c.id > position)
                    .order_by(events.c.id)
                    .limit(self.batch_size)
                )
            ).all()
            if not rows:
                return 0
            batch = [Event(r.id, r.type, r.payload) for r in rows]
            relevant = [e for e in batch if self.types is None or e.type in self.types]
            if relevant:
                await self.handle(conn, relevant)
            await conn.execute(
                consumer_cursors.update()
                .where(consumer_cursors.c.name == self.name)
                .values(position=batch[-1].id, updated_at=datetime.now(UTC))
            )
        EVENTS_READ.labels(self.name).inc(len(batch))
        CONSUMER_POSITION.labels(self.name).set(batch[-1].id)
        if relevant and self.after_commit is not None:
            try:
                await self.after_commit(relevant)
            except Exception:  # a live-stream push must never stop the consumer
                log.exception("after_commit_failed", consumer=self.name)
        return len(batch)

    async def _claim(self, conn: Connection, db: Database) -> int | None:
        """Lock this consumer's cursor for the transaction and return its position.

        On PostgreSQL the row is taken FOR UPDATE SKIP LOCKED, so several `stoa worker` processes
        share the work without ever running the same consumer twice at once (None: busy elsewhere).
        SQLite's single writer already serialises everything.
        """
        query = select(consumer_cursors.c.position).where(consumer_cursors.c.name == self.name)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        position = (await conn.execute(query)).scalar()
        if position is not None:
            return int(position)
        inserted = await conn.execute(db.insert_ignore(consumer_cursors).values(
            name=self.name, position=0, updated_at=datetime.now(UTC)))
        if not inserted.rowcount:
            return None  # it exists and is locked by another worker
        return 0

    async def drain(self, db: Database) -> int:
        """Process until caught up; return the number of events read."""
        total = 0
        while n := await self.run_once(db):
            total += n
        return total


async def run_consumers(db: Database, consumers: Sequence[Consumer], poll_seconds: float) -> None:
    """Run consumers forever: woken by in-process commits, polling for other processes'."""
    wakeup = db.subscribe_wakeups()
    failures = 0
    while True:
        wakeup.clear()
        try:
            busy = False
            for consumer in consumers:
                if await consumer.run_once(db):
                    busy = True
            failures = 0
        except asyncio.CancelledError:
            raise
        except Exception:
            failures += 1
            CONSUMER_FAILURES.inc()
            log.exception("consumer_batch_failed", failures=failures)
            await asyncio.sleep(min(30.0, 0.2 * 2**failures))
            continue
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), timeout=poll_seconds)
