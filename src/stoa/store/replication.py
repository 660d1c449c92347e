"""Replication of public content between regions: each region pulls from every other.

A region's public rows (profiles, public/unlisted/followers-only posts with their mentions, tags,
media and edit history, the follow graph, pins) are written in their author's home region and
copied, read-only, into every other region's store, so a person's home region can serve everything
they read. Private rows are copied only to the people they are addressed to: a direct post goes to
the home region of each region's recipients, a follow request to the locked account's home region,
as a copy held for that recipient (``held_for_id``; the residency guards check the holder is homed
there).

Pull, not push: region B keeps, in its own ``consumer_cursors``, how far it has read region A's
outbox (``replica:A``). One transaction in B copies a batch of A's events' rows, re-emits those
events into B's outbox marked ``origin: A`` (so B's own consumers do B's part: fan-out to B's
followers, notifications for B's people, counters of B's posts) and advances the cursor. Exactly
once, whatever crashes; if A is down, B retries and catches up when A is back. Events that A
itself received from elsewhere (``origin`` set) are not passed on: every region pulls from every
other directly.

This module is the mechanism: the cursor, the batch, and ``Copier``'s ways of copying rows. Which
events replicate, and what each copies, are rules the domain packages declare in ``RULES`` when
they are imported (``stoa.social.replication``); an event with no rule stays in its region, and
a private event (``Event.private``) cannot be given one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy import ColumnElement, Table, delete, func, select

from stoa.store.database import Connection, Database, StoreUnavailable
from stoa.store.events import Entry, Event, claim_cursor, emit, move_cursor, read_after
from stoa.store.ids import new_id
from stoa.store.schema import (
    accounts,
    media_attachments,
    mentions,
    status_edits,
    status_tags,
    statuses,
    tags,
)

log = structlog.get_logger(__name__)
REPLICATED = Counter("stoa_replication_events_total", "Events replicated into this region", ["source"])
LAG = Gauge("stoa_replication_position", "Last event of the source region replicated here", ["source", "target"])
UNREACHABLE = Counter("stoa_replication_region_unreachable_total", "Pulls that found a region down",
                      ["region"])

Rule = Callable[["Copier", Any], Awaitable[Event | None]]
"""Copies what an event of the source region brings into the target; returns the event to re-emit
in the target (usually the same one), or None when nothing of it concerns the target."""
R = TypeVar("R", bound=Rule)


class ReplicationRules:
    """Event type -> the rule that replicates it. Filled by the domain packages at import."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def on(self, *kinds: type[Event]) -> Callable[[R], R]:
        """Decorate the rule for these event types (it receives an event of one of them)."""
        for kind in kinds:
            if kind.private:
                raise TypeError(f"{kind.type} is private data: it never leaves its home region")
            if kind.type in self._rules:
                raise TypeError(f"{kind.type} has a replication rule already")

        def register(rule: R) -> R:
            for kind in kinds:
                self._rules[kind.type] = rule
            return rule
        return register

    def rule_for(self, type_: str) -> Rule | None:
        return self._rules.get(type_)

    def types(self) -> set[str]:
        return set(self._rules)


RULES = ReplicationRules()


class Copier:
    """What a rule may do: copy rows homed in the source region into the target, or remove rows there."""

    def __init__(self, src: Connection, dst: Connection, source: str, target: str, target_db: Database) -> None:
        self.src, self.dst = src, dst
        self.source, self.target = source, target
        self._db = target_db

    async def account(self, account_id: int) -> None:
        """Copy an account homed in the source region (the source's replicas of others are not its to give)."""
        row = (await self.src.execute(select(accounts).where(accounts.c.id == account_id))).first()
        if row is not None and row.region == self.source:
            await self.dst.execute(self._db.upsert(accounts, ["id"], dict(row._mapping)))

    async def counts(self, status_id: int) -> None:
        """Bring the replica's public counts of a post homed in the source region up to the source's."""
        row = (await self.src.execute(select(statuses.c.favourites_count, statuses.c.reblogs_count,
                                             statuses.c.replies_count, accounts.c.region).join(
            accounts, accounts.c.id == statuses.c.account_id).where(statuses.c.id == status_id))).first()
        if row is not None and row.region == self.source:
            await self.dst.execute(statuses.update().where(statuses.c.id == status_id).values(
                favourites_count=row.favourites_count, reblogs_count=row.reblogs_count,
                replies_count=row.replies_count))

    async def rows(self, table: Table, key: list[str], *where: ColumnElement[bool],
                   **overrides: Any) -> int:
        """Copy the source's rows of ``table`` matching ``where`` (upserted by ``key``, with ``overrides``
        replacing column values); returns how many were copied."""
        found = (await self.src.execute(select(table).where(*where))).all()
        for row in found:
            await self.dst.execute(self._db.upsert(table, key, {**row._mapping, **overrides}))
        return len(found)

    async def remove(self, table: Table, *where: ColumnElement[bool]) -> int:
        """Delete the target's rows of ``table`` matching ``where``; returns how many went."""
        return int((await self.dst.execute(delete(table).where(*where))).rowcount or 0)

    async def homed_in_target(self, account_id: int) -> bool:
        home = (await self.dst.execute(select(accounts.c.region).where(accounts.c.id == account_id))).scalar()
        return bool(home == self.target)

    async def status(self, status_id: int) -> bool:
        """Copy a post homed in the source region with its parts. False: a direct post that no one here
        may read (any copy held here before, say for someone an edit no longer mentions, is removed)."""
        src, dst = self.src, self.dst
        row = (await src.execute(select(statuses, accounts.c.region.label("home")).join(
            accounts, accounts.c.id == statuses.c.account_id).where(statuses.c.id == status_id))).first()
        if row is None or row.home != self.source:
            return True
        values = {k: v for k, v in row._mapping.items() if k != "home"}
        if row.visibility == "direct":
            values["held_for_id"] = await self._recipient_here(status_id)
            if values["held_for_id"] is None:
                await self._drop_held_copy(status_id)
                return False
        await self.account(row.account_id)
        if row.reblog_of_id is not None:
            await self.status(row.reblog_of_id)
        await dst.execute(self._db.upsert(statuses, ["id"], values))
        # The post's parts: replaced as a whole, so edits and deletions reach the replica too.
        await dst.execute(delete(mentions).where(mentions.c.status_id == status_id))
        for mention in (await src.execute(select(mentions).where(mentions.c.status_id == status_id))).all():
            await self.account(mention.account_id)
            await dst.execute(mentions.insert().values(**dict(mention._mapping)))
        await dst.execute(delete(status_tags).where(status_tags.c.status_id == status_id))
        names = (await src.execute(select(tags.c.name).join(status_tags, status_tags.c.tag_id == tags.c.id)
                                   .where(status_tags.c.status_id == status_id))).scalars().all()
        for name in names:  # tag ids are per region: matched by name
            await dst.execute(self._db.insert_ignore(tags).values(id=new_id(), name=name, name_lower=name.lower(),
                                                                   created_at=datetime.now(UTC)))
            tag_id = (await dst.execute(select(tags.c.id).where(tags.c.name_lower == name.lower()))).scalar_one()
            await dst.execute(self._db.insert_ignore(status_tags).values(status_id=status_id, tag_id=tag_id))
        await self.rows(media_attachments, ["id"], media_attachments.c.status_id == status_id)
        await self.rows(status_edits, ["id"], status_edits.c.status_id == status_id)
        return True

    async def _recipient_here(self, status_id: int) -> int | None:
        """The recipient homed in the target region a direct post's copy is held for (the lowest id)."""
        return (await self.src.execute(select(func.min(mentions.c.account_id)).join(
            accounts, accounts.c.id == mentions.c.account_id).where(
            mentions.c.status_id == status_id, accounts.c.region == self.target,
            accounts.c.erased_at.is_(None)))).scalar()

    async def _drop_held_copy(self, status_id: int) -> None:
        held = (await self.dst.execute(select(statuses.c.id).where(
            statuses.c.id == status_id, statuses.c.held_for_id.is_not(None)))).first()
        if held is not None:
            await _drop_post(self.dst, status_id)


def replica_cursor(source: str) -> str:
    """The name of the cursor, in each other region's store, of how far it has read ``source``'s outbox."""
    return f"replica:{source}"


class Replicator:
    """Copies what ``source`` published into ``target`` (both regions' databases), by ``rules``."""

    def __init__(self, source: Database, source_name: str, target: Database, target_name: str,
                 batch_size: int = 200, rules: ReplicationRules = RULES) -> None:
        self.source, self.source_name = source, source_name
        self.target, self.target_name = target, target_name
        self.cursor = replica_cursor(source_name)
        self.batch_size = batch_size
        self.rules = rules

    async def run_once(self) -> int:
        if not self.rules.types():  # the domain's rules were never imported: copying nothing would lose data
            raise RuntimeError("no replication rules are registered (import stoa.social.replication)")
        async with self.target.write() as conn:
            position = await claim_cursor(conn, self.target, self.cursor)
            if position is None:
                return 0
            async with self.source.read() as src:
                rows = await read_after(src, position, self.batch_size)
                copier = Copier(src, conn, self.source_name, self.target_name, self.target)
                for row in rows:
                    rule = self.rules.rule_for(row.type)
                    if rule is None:
                        continue
                    entry = Entry.of(row)
                    if entry.origin is not None or entry.event is None or entry.event.private:
                        continue
                    passed_on = await rule(copier, entry.event)
                    if passed_on is not None:
                        await emit(conn, passed_on, origin=self.source_name)
            if not rows:
                return 0
            await move_cursor(conn, self.cursor, int(rows[-1].id))
        REPLICATED.labels(self.source_name).inc(len(rows))
        LAG.labels(self.source_name, self.target_name).set(int(rows[-1].id))
        self.target.wake()
        return len(rows)

    async def drain(self) -> int:
        total = 0
        while n := await self.run_once():
            total += n
        return total

    async def run_forever(self, poll_seconds: float = 0.5) -> None:
        while True:
            try:
                if await self.run_once():
                    continue
            except asyncio.CancelledError:
                raise
            except StoreUnavailable as exc:  # a region is down: try again, catch up when it is back
                UNREACHABLE.labels(exc.region).inc()
                log.warning("replication_region_unreachable", source=self.source_name, target=self.target_name,
                            region=exc.region)
            except Exception:
                log.exception("replication_failed", source=self.source_name, target=self.target_name)
            await asyncio.sleep(poll_seconds)


async def _drop_post(conn: Connection, status_id: int) -> None:
    for part in (mentions, status_tags, status_edits, media_attachments):
        await conn.execute(delete(part).where(part.c.status_id == status_id))
    await conn.execute(delete(statuses).where(statuses.c.id == status_id))


async def release_held_copies(conn: Connection, account_id: int, region: str) -> None:
    """The holder of direct posts' copies in ``region`` is erased: each copy passes to another recipient
    homed here, or, with none left, is removed (the author's own copy stays in the author's region)."""
    held = (await conn.execute(select(statuses.c.id).where(statuses.c.held_for_id == account_id))).scalars().all()
    for status_id in held:
        heir = (await conn.execute(select(func.min(mentions.c.account_id)).join(
            accounts, accounts.c.id == mentions.c.account_id).where(
            mentions.c.status_id == status_id, mentions.c.account_id != account_id,
            accounts.c.region == region, accounts.c.erased_at.is_(None)))).scalar()
        if heir is None:
            await _drop_post(conn, int(status_id))
        else:
            await conn.execute(statuses.update().where(statuses.c.id == status_id).values(held_for_id=heir))


def replicators_for(regions: dict[str, Database], rules: ReplicationRules = RULES) -> list[Replicator]:
    """Every ordered pair of regions: each region pulls from every other."""
    return [Replicator(regions[a], a, regions[b], b, rules=rules) for a in regions for b in regions if a != b]
