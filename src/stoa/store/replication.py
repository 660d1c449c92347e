"""Replication of public content between regions: each region pulls from every other.

A region's public rows (profiles, public/unlisted/followers-only posts with their mentions, tags,
media and edit history, the follow graph) are written in their author's home region and copied,
read-only, into every other region's store, so a person's home region can serve everything they
read. Private rows are copied only to the people they are addressed to: a direct post goes to the
home region of each region's recipients, a follow request to the locked account's home region, as a
copy held for that recipient (``held_for_id``; the residency guards check the holder is homed there).
The answer to a request travels back the same way (``follow_request.authorized``/``rejected``: the
requester's region drops its pending row; the follow itself is public and replicates as any other).

Pull, not push: region B keeps, in its own ``consumer_cursors``, how far it has read region A's
outbox (``replica:A``). One transaction in B copies a batch of A's events' rows, re-emits those
events into B's outbox marked ``origin: A`` (so B's own consumers do B's part: fan-out to B's
followers, notifications for B's people, counters of B's posts) and advances the cursor. Exactly
once, whatever crashes; if A is down, B retries and catches up when A is back. Events that A
itself received from elsewhere (``origin`` set) are not passed on: every region pulls from every
other directly.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy import delete, func, or_, select

from stoa.store.database import Connection, Database, StoreUnavailable
from stoa.store.events import Event, emit
from stoa.store.ids import new_id
from stoa.store.schema import (
    accounts,
    consumer_cursors,
    events,
    follow_requests,
    follows,
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

REPLICATED_TYPES = {
    "account.created", "account.updated", "account.suspended", "account.unsuspended", "account.erased",
    "account.counted", "status.created", "status.updated", "status.deleted", "status.counted",
    "follow.created", "follow.deleted", "favourite.created", "favourite.deleted", "follow_request.created",
    "follow_request.withdrawn", "follow_request.authorized", "follow_request.rejected",
}


class Replicator:
    """Copies what ``source`` published into ``target`` (both regions' databases)."""

    def __init__(self, source: Database, source_name: str, target: Database, target_name: str,
                 batch_size: int = 200) -> None:
        self.source, self.source_name = source, source_name
        self.target, self.target_name = target, target_name
        self.cursor = f"replica:{source_name}"
        self.batch_size = batch_size

    async def run_once(self) -> int:
        async with self.target.write() as conn:
            position = await self._claim(conn)
            if position is None:
                return 0
            async with self.source.read() as src:
                rows = (await src.execute(select(events.c.id, events.c.type, events.c.payload)
                                          .where(events.c.id > position).order_by(events.c.id)
                                          .limit(self.batch_size))).all()
                batch = [Event(r.id, r.type, r.payload) for r in rows]
                for event in batch:
                    if event.type in REPLICATED_TYPES and "origin" not in event.payload:
                        await self._apply(src, conn, event)
            if not batch:
                return 0
            await conn.execute(consumer_cursors.update().where(consumer_cursors.c.name == self.cursor)
                               .values(position=batch[-1].id, updated_at=datetime.now(UTC)))
        REPLICATED.labels(self.source_name).inc(len(batch))
        LAG.labels(self.source_name, self.target_name).set(batch[-1].id)
        self.target.wake()
        return len(batch)

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

    async def _claim(self, conn: Connection) -> int | None:
        query = select(consumer_cursors.c.position).where(consumer_cursors.c.name == self.cursor)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        position = (await conn.execute(query)).scalar()
        if position is not None:
            return int(position)
        inserted = await conn.execute(self.target.insert_ignore(consumer_cursors).values(
            name=self.cursor, position=0, updated_at=datetime.now(UTC)))
        return 0 if inserted.rowcount else None

    async def _apply(self, src: Connection, dst: Connection, event: Event) -> None:
        p = event.payload
        kind = event.type
        if kind.startswith("account."):
            await self._copy_account(src, dst, p["account_id"])
            if kind == "account.erased":  # requests to or from the erased account are void here too
                await dst.execute(delete(follow_requests).where(or_(
                    follow_requests.c.account_id == p["account_id"],
                    follow_requests.c.target_account_id == p["account_id"])))
        elif kind in ("status.created", "status.updated", "status.deleted", "status.counted"):
            if not await self._copy_status(src, dst, p["status_id"]):
                return  # a direct post none of whose recipients lives here: nothing of it comes here
            if kind in ("status.created", "status.deleted") and p.get("in_reply_to_id") is not None:
                await self._copy_counts(src, dst, int(p["in_reply_to_id"]))  # a reply changed its parent's count
        elif kind in ("favourite.created", "favourite.deleted"):
            await self._copy_counts(src, dst, p["status_id"])  # a like here of a post homed here
        elif kind == "follow_request.created":
            if not await self._deliver_request(src, dst, p["account_id"], p["target_account_id"]):
                return
        elif kind == "follow_request.withdrawn":  # the requester's region withdrew it: the held copy goes
            gone = await dst.execute(delete(follow_requests).where(
                follow_requests.c.account_id == p["account_id"],
                follow_requests.c.target_account_id == p["target_account_id"],
                follow_requests.c.held_for_id.is_not(None)))
            if not gone.rowcount:
                return
        elif kind in ("follow_request.authorized", "follow_request.rejected"):
            # Answered in the target's region: the requester's own pending row, if it lives here, goes.
            gone = await dst.execute(delete(follow_requests).where(
                follow_requests.c.account_id == p["account_id"],
                follow_requests.c.target_account_id == p["target_account_id"],
                follow_requests.c.held_for_id.is_(None)))
            if not gone.rowcount:
                return
        elif kind == "follow.created":
            for account_id in (p["account_id"], p["target_account_id"]):
                await self._copy_account(src, dst, account_id)
            row = (await src.execute(select(follows).where(
                follows.c.account_id == p["account_id"],
                follows.c.target_account_id == p["target_account_id"]))).first()
            if row is not None:
                await dst.execute(self.target.upsert(follows, ["id"], dict(row._mapping)))
        elif kind == "follow.deleted":
            await dst.execute(delete(follows).where(follows.c.account_id == p["account_id"],
                                                    follows.c.target_account_id == p["target_account_id"]))
            for account_id in (p["account_id"], p["target_account_id"]):
                await self._copy_account(src, dst, account_id)
        # favourite.* carry no public row (a like is private): only the event travels, for the post's region.
        await emit(dst, kind, **p, origin=self.source_name)

    async def _copy_account(self, src: Connection, dst: Connection, account_id: int) -> None:
        """Copy an account homed in the source region (the source's replicas of others are not its to give)."""
        row = (await src.execute(select(accounts).where(accounts.c.id == account_id))).first()
        if row is not None and row.region == self.source_name:
            await dst.execute(self.target.upsert(accounts, ["id"], dict(row._mapping)))

    async def _copy_counts(self, src: Connection, dst: Connection, status_id: int) -> None:
        """Bring the replica's public counts of a post homed in the source region up to the source's."""
        row = (await src.execute(select(statuses.c.favourites_count, statuses.c.reblogs_count,
                                        statuses.c.replies_count, accounts.c.region).join(
            accounts, accounts.c.id == statuses.c.account_id).where(statuses.c.id == status_id))).first()
        if row is not None and row.region == self.source_name:
            await dst.execute(statuses.update().where(statuses.c.id == status_id).values(
                favourites_count=row.favourites_count, reblogs_count=row.reblogs_count,
                replies_count=row.replies_count))

    async def _copy_status(self, src: Connection, dst: Connection, status_id: int) -> bool:
        """Copy a post homed in the source region with its parts. False: a direct post that no one here
        may read (any copy held here before, say for someone an edit no longer mentions, is removed)."""
        row = (await src.execute(select(statuses, accounts.c.region.label("home")).join(
            accounts, accounts.c.id == statuses.c.account_id).where(statuses.c.id == status_id))).first()
        if row is None or row.home != self.source_name:
            return True
        values = {k: v for k, v in row._mapping.items() if k != "home"}
        if row.visibility == "direct":
            values["held_for_id"] = await self._recipient_here(src, status_id)
            if values["held_for_id"] is None:
                await self._drop_held_copy(dst, status_id)
                return False
        await self._copy_account(src, dst, row.account_id)
        if row.reblog_of_id is not None:
            await self._copy_status(src, dst, row.reblog_of_id)
        await dst.execute(self.target.upsert(statuses, ["id"], values))
        # The post's parts: replaced as a whole, so edits and deletions reach the replica too.
        await dst.execute(delete(mentions).where(mentions.c.status_id == status_id))
        for mention in (await src.execute(select(mentions).where(mentions.c.status_id == status_id))).all():
            await self._copy_account(src, dst, mention.account_id)
            await dst.execute(mentions.insert().values(**dict(mention._mapping)))
        await dst.execute(delete(status_tags).where(status_tags.c.status_id == status_id))
        names = (await src.execute(select(tags.c.name).join(status_tags, status_tags.c.tag_id == tags.c.id)
                                   .where(status_tags.c.status_id == status_id))).scalars().all()
        for name in names:  # tag ids are per region: matched by name
            await dst.execute(self.target.insert_ignore(tags).values(id=new_id(), name=name, name_lower=name.lower(),
                                                                      created_at=datetime.now(UTC)))
            tag_id = (await dst.execute(select(tags.c.id).where(tags.c.name_lower == name.lower()))).scalar_one()
            await dst.execute(self.target.insert_ignore(status_tags).values(status_id=status_id, tag_id=tag_id))
        for media in (await src.execute(select(media_attachments).where(
                media_attachments.c.status_id == status_id))).all():
            await dst.execute(self.target.upsert(media_attachments, ["id"], dict(media._mapping)))
        for edit in (await src.execute(select(status_edits).where(status_edits.c.status_id == status_id))).all():
            await dst.execute(self.target.upsert(status_edits, ["id"], dict(edit._mapping)))
        return True

    async def _recipient_here(self, src: Connection, status_id: int) -> int | None:
        """The recipient homed in the target region a direct post's copy is held for (the lowest id)."""
        return (await src.execute(select(func.min(mentions.c.account_id)).join(
            accounts, accounts.c.id == mentions.c.account_id).where(
            mentions.c.status_id == status_id, accounts.c.region == self.target_name,
            accounts.c.erased_at.is_(None)))).scalar()

    async def _drop_held_copy(self, dst: Connection, status_id: int) -> None:
        held = (await dst.execute(select(statuses.c.id).where(
            statuses.c.id == status_id, statuses.c.held_for_id.is_not(None)))).first()
        if held is not None:
            await _drop_post(dst, status_id)

    async def _deliver_request(self, src: Connection, dst: Connection, requester: int, target: int) -> bool:
        """A follow request to a locked account homed in the target region: a copy held for that account."""
        row = (await src.execute(select(follow_requests).where(
            follow_requests.c.account_id == requester, follow_requests.c.target_account_id == target,
            follow_requests.c.held_for_id.is_(None)))).first()
        home = (await dst.execute(select(accounts.c.region).where(accounts.c.id == target))).scalar()
        if row is None or home != self.target_name:
            return False  # withdrawn since, or not for this region
        await self._copy_account(src, dst, requester)
        values = {**row._mapping, "held_for_id": target}
        await dst.execute(self.target.upsert(follow_requests, ["account_id", "target_account_id"], values))
        return True


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


def replicators_for(regions: dict[str, Database]) -> list[Replicator]:
    """Every ordered pair of regions: each region pulls from every other."""
    return [Replicator(regions[a], a, regions[b], b) for a in regions for b in regions if a != b]
