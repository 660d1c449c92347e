"""The transactional outbox: every change of state is written with an event.

``emit`` inserts an event row inside the caller's write transaction, so the
event exists if and only if the change committed. Consumers read events in
id order from their own cursor and advance it in the same transaction as the
projection rows they write: at-least-once delivery with idempotent handlers,
restartable after any crash.

Every event has one typed definition, a frozen dataclass subclassing ``Event``
and naming its stored type (``class FollowCreated(Event, name="follow.created")``),
declared by the domain package that produces it (``stoa.social.events``,
``stoa.feeds.events``). Defining the class enters it in ``CATALOGUE``; producers
emit instances, consumers receive them decoded. The stored row keeps the wire
format every database already holds: the type string and a JSON object of the
fields (plus ``origin`` for an event replicated from another region). Decoding
is lenient with older rows: keys no longer defined are ignored and fields added
since take their defaults.

On PostgreSQL, sequence values are not handed out in commit order, so a
consumer could skip an event whose transaction commits late. Event inserts
therefore take a transaction-scoped advisory lock first: events become
visible in id order. The lock is held only from the insert to the commit
(callers emit last). SQLite serialises writers anyway.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any, ClassVar

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
ORIGIN = "origin"  # the payload key naming the region a replicated event came from


@dataclass(frozen=True)
class Event:
    """The base of every event definition.

    Subclasses name their stored type and say what may happen to them:

    * ``private``: the event is about private data (blocks, mutes, views, feed controls) and never
      leaves its home region: the replication registry refuses a rule for it.
    * ``unconsumed``: why nothing consumes or replicates it yet, when nothing does — an event that is
      only a record (for federation, for replays) says so where it is defined.
    """

    type: ClassVar[str]
    private: ClassVar[bool] = False
    unconsumed: ClassVar[str | None] = None

    def __init_subclass__(cls, *, name: str, private: bool = False, unconsumed: str | None = None) -> None:
        super().__init_subclass__()
        if name in CATALOGUE:
            raise TypeError(f"event type {name!r} is defined twice: {CATALOGUE[name].__qualname__} and "
                            f"{cls.__qualname__}")
        cls.type, cls.private, cls.unconsumed = name, private, unconsumed
        CATALOGUE[name] = cls

    def payload(self) -> dict[str, Any]:
        """The JSON object stored in the outbox row."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


CATALOGUE: dict[str, type[Event]] = {}


class MalformedEvent(ValueError):
    """A stored payload that lacks a field its event type requires."""


_FIELD_NAMES: dict[type[Event], frozenset[str]] = {}


def _field_names(cls: type[Event]) -> frozenset[str]:
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = frozenset(f.name for f in fields(cls))
    return names


def decode(type_: str, payload: dict[str, Any]) -> Event | None:
    """The typed event of a stored row; None for a type not (or no longer) in the catalogue."""
    cls = CATALOGUE.get(type_)
    if cls is None:
        return None
    known = _field_names(cls)
    try:
        return cls(**{k: v for k, v in payload.items() if k in known})
    except TypeError as exc:
        raise MalformedEvent(f"{type_} event with payload keys {sorted(payload)}: {exc}") from None


@dataclass(frozen=True)
class Entry:
    """An event as read back from the outbox: its position, its type, the decoded event (None for a
    type this build does not define), and the region it was replicated from (None: made here)."""

    id: int
    type: str
    event: Event | None
    origin: str | None = None

    @classmethod
    def of(cls, row: Any) -> Entry:
        """From an outbox row (id, type, payload)."""
        return cls(int(row.id), row.type, decode(row.type, row.payload), row.payload.get(ORIGIN))


async def emit(conn: Connection, event: Event, *, origin: str | None = None) -> None:
    """Record an event inside the current write transaction. Call it last."""
    payload = event.payload()
    if origin is not None:
        payload[ORIGIN] = origin
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": OUTBOX_LOCK})
    await conn.execute(events.insert().values(type=event.type, payload=payload, created_at=datetime.now(UTC)))


async def read_after(conn: Connection, position: int, limit: int) -> Sequence[Any]:
    """Outbox rows (id, type, payload) after ``position``, in id order."""
    return (await conn.execute(select(events.c.id, events.c.type, events.c.payload)
                               .where(events.c.id > position).order_by(events.c.id).limit(limit))).all()


async def claim_cursor(conn: Connection, db: Database, name: str) -> int | None:
    """Lock the cursor ``name`` for the transaction and return its position (a new cursor starts at 0).

    On PostgreSQL the row is taken FOR UPDATE SKIP LOCKED, so several `stoa worker` processes
    share the work without ever running the same reader twice at once (None: busy elsewhere).
    SQLite's single writer already serialises everything. ``db`` is the database ``conn`` writes to.
    """
    query = select(consumer_cursors.c.position).where(consumer_cursors.c.name == name)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    position = (await conn.execute(query)).scalar()
    if position is not None:
        return int(position)
    inserted = await conn.execute(db.insert_ignore(consumer_cursors).values(
        name=name, position=0, updated_at=datetime.now(UTC)))
    return 0 if inserted.rowcount else None  # None: it exists and another worker holds it


async def move_cursor(conn: Connection, name: str, position: int) -> None:
    """Advance a cursor claimed in this transaction."""
    await conn.execute(consumer_cursors.update().where(consumer_cursors.c.name == name)
                       .values(position=position, updated_at=datetime.now(UTC)))


Handler = Callable[[Connection, Sequence[Entry]], Awaitable[None]]
AfterCommit = Callable[[Sequence[Entry]], Awaitable[None]]


class Consumer:
    """A named, durable reader of the outbox.

    ``events``: the event types it handles (None: every row, typed or not). Rows of other types are
    skipped by their type string, without decoding, so a frequent event no one consumes costs little.
    """

    def __init__(
        self,
        name: str,
        handle: Handler,
        *,
        events: Iterable[type[Event]] | None = None,
        after_commit: AfterCommit | None = None,
        batch_size: int = 200,
    ) -> None:
        self.name = name
        self.handle = handle
        self.types = None if events is None else {e.type for e in events}
        self.after_commit = after_commit
        self.batch_size = batch_size

    async def run_once(self, db: Database) -> int:
        """Process one batch; return how many events were read (0 when caught up)."""
        async with db.write() as conn:
            position = await claim_cursor(conn, db, self.name)
            if position is None:
                return 0  # another worker holds this consumer right now
            rows = await read_after(conn, position, self.batch_size)
            if not rows:
                return 0
            relevant = [Entry.of(r) for r in rows if self.types is None or r.type in self.types]
            if relevant:
                await self.handle(conn, relevant)
            last = int(rows[-1].id)
            await move_cursor(conn, self.name, last)
        EVENTS_READ.labels(self.name).inc(len(rows))
        CONSUMER_POSITION.labels(self.name).set(last)
        if relevant and self.after_commit is not None:
            try:
                await self.after_commit(relevant)
            except Exception:  # a live-stream push must never stop the consumer
                log.exception("after_commit_failed", consumer=self.name)
        return len(rows)

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
