"""Event consumers that derive state from the outbox: home timelines, notifications, search.

Every handler is idempotent (INSERT ... ON CONFLICT DO NOTHING, deletes by
key), so replaying events after a crash changes nothing that was already
done. After each committed batch, live streams are told what changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, delete, exists, literal, select

from stoa.feeds.similar import VectorKeeper
from stoa.feeds.trending import TrendingKeeper
from stoa.social import search_text
from stoa.social.streaming import Fact, Hub
from stoa.store.database import Connection, Database
from stoa.store.events import Consumer, Event
from stoa.store.ids import new_id
from stoa.store.schema import (
    accounts,
    blocks,
    follows,
    home_feed,
    mentions,
    mutes,
    notifications,
    status_search,
    statuses,
)

BACKFILL = 40  # posts copied into a home timeline when following someone


def _exclude_muters_and_blockers(author_ids: list[int]) -> Any:
    """Follower rows to skip: those who mute or block (or are blocked by) any of ``author_ids``."""
    return ~exists().where(
        (mutes.c.account_id == follows.c.account_id) & mutes.c.target_account_id.in_(author_ids)
    ) & ~exists().where(
        (blocks.c.account_id == follows.c.account_id) & blocks.c.target_account_id.in_(author_ids)
    )


class HomeFanout:
    """Writes each post into the home timelines of those who should see it."""

    name = "home_fanout"

    def __init__(self, db: Database, hub: Hub, region: str) -> None:
        self.db = db
        self.hub = hub
        self.region = region  # home timelines are private: only this region's people get rows here
        self._facts: list[Fact] = []

    def consumer(self) -> Consumer:
        return Consumer(self.name, self.handle, after_commit=self.after_commit, types={
            "status.created", "status.deleted", "status.updated", "follow.created", "follow.deleted",
            "block.created", "mute.created"})

    async def handle(self, conn: Connection, batch: Sequence[Event]) -> None:
        for event in batch:
            p = event.payload
            if event.type == "status.created":
                await self._deliver(conn, p)
            elif event.type == "status.deleted":
                ids = [p["status_id"]]
                if p.get("reblog_of_id") is None:
                    ids += [int(x) for x in (await conn.execute(
                        select(statuses.c.id).where(statuses.c.reblog_of_id == p["status_id"]))).scalars()]
                await conn.execute(delete(home_feed).where(home_feed.c.status_id.in_(ids)))
                self._facts.append(Fact("delete", p["status_id"],
                                        public=p.get("visibility") in ("public", "unlisted")))
            elif event.type == "status.updated":
                if p.get("dropped_mentions") and p.get("visibility") == "direct":
                    await conn.execute(delete(home_feed).where(home_feed.c.status_id == p["status_id"],
                                                               home_feed.c.account_id.in_(p["dropped_mentions"])))
                self._facts.append(Fact("edit", p["status_id"], public=p.get("visibility") in ("public", "unlisted")))
            elif event.type == "follow.created":
                await self._backfill(conn, p["account_id"], p["target_account_id"])
            elif event.type in ("follow.deleted", "block.created", "mute.created"):
                await conn.execute(delete(home_feed).where(
                    home_feed.c.account_id == p["account_id"],
                    home_feed.c.author_id == p["target_account_id"],
                    home_feed.c.status_id.not_in(select(statuses.c.id).where(
                        statuses.c.account_id == p["account_id"]))))
                if event.type == "block.created":
                    await conn.execute(delete(home_feed).where(
                        home_feed.c.account_id == p["target_account_id"],
                        home_feed.c.author_id == p["account_id"]))

    async def _deliver(self, conn: Connection, p: dict[str, Any]) -> None:
        status_id, author = p["status_id"], p["account_id"]
        status = (await conn.execute(select(statuses.c.deleted_at).where(statuses.c.id == status_id))).first()
        if status is None or status.deleted_at is not None:
            return
        visibility = p["visibility"]
        insert = self.db.insert_ignore(home_feed)
        if visibility == "direct":
            recipients = await homed_here(conn, [author, *p.get("mentions", [])], self.region)
            if recipients:
                await conn.execute(insert, [{"account_id": a, "status_id": status_id, "author_id": author}
                                            for a in recipients])
        else:
            related = [author]
            if p.get("reblog_of_account_id"):
                related.append(p["reblog_of_account_id"])
            # One INSERT ... SELECT: the database copies the post id to every follower.
            source = select(follows.c.account_id, literal(status_id), literal(author)).where(
                follows.c.target_account_id == author, _exclude_muters_and_blockers(related),
                exists().where(accounts.c.id == follows.c.account_id, accounts.c.region == self.region))
            reply_to = p.get("in_reply_to_account_id")
            if reply_to is not None and reply_to != author:
                # Mastodon's rule: a reply reaches followers who also follow the person replied to.
                other = follows.alias("other")
                source = source.where(exists().where(and_(
                    other.c.account_id == follows.c.account_id, other.c.target_account_id == reply_to)))
            if p.get("reblog_of_id") is not None:
                source = source.where(follows.c.show_reblogs.is_(True))
            await conn.execute(insert.from_select(["account_id", "status_id", "author_id"], source))
        public = visibility == "public" and p.get("reblog_of_id") is None
        self._facts.append(Fact("status", status_id, public=public, tags=list(p.get("tags", [])) if public else []))

    async def _backfill(self, conn: Connection, follower: int, target: int) -> None:
        if not await homed_here(conn, [follower], self.region):
            return  # the follower's home region backfills their timeline
        recent = (select(statuses.c.id).where(
            statuses.c.account_id == target, statuses.c.deleted_at.is_(None),
            statuses.c.visibility.in_(["public", "unlisted", "private"]),
            statuses.c.in_reply_to_id.is_(None)).order_by(statuses.c.id.desc()).limit(BACKFILL))
        ids = [int(x) for x in (await conn.execute(recent)).scalars()]
        if ids:
            await conn.execute(self.db.insert_ignore(home_feed),
                               [{"account_id": follower, "status_id": i, "author_id": target} for i in ids])

    async def after_commit(self, _batch: Sequence[Event]) -> None:
        facts, self._facts = self._facts, []
        await self.hub.publish(facts)


class NotificationWriter:
    """Turns mentions, boosts, favourites, follows and edits into notifications."""

    name = "notifications"

    def __init__(self, db: Database, hub: Hub, region: str) -> None:
        self.db = db
        self.hub = hub
        self.region = region  # notifications are private: written in the recipient's home region only
        self._written: list[Fact] = []

    def consumer(self) -> Consumer:
        return Consumer(self.name, self.handle, after_commit=self.after_commit, types={
            "status.created", "status.updated", "status.deleted", "favourite.created", "follow.created",
            "follow_request.created", "follow_request.rejected", "follow_request.withdrawn", "account.erased"})

    async def handle(self, conn: Connection, batch: Sequence[Event]) -> None:
        for event in batch:
            p = event.payload
            if event.type == "status.created":
                if p.get("reblog_of_id") is not None:
                    await self._notify(conn, p["reblog_of_account_id"], "reblog", p["account_id"],
                                       p["reblog_of_id"], f"reblog:{p['status_id']}")
                    continue
                for mentioned in p.get("mentions", []):
                    await self._notify(conn, mentioned, "mention", p["account_id"], p["status_id"],
                                       f"mention:{p['status_id']}")
                if p["visibility"] in ("public", "unlisted", "private") and p.get("in_reply_to_id") is None:
                    subscribers = (await conn.execute(select(follows.c.account_id).where(
                        follows.c.target_account_id == p["account_id"], follows.c.notify.is_(True)))).scalars()
                    for subscriber in list(subscribers):
                        await self._notify(conn, int(subscriber), "status", p["account_id"], p["status_id"],
                                           f"status:{p['status_id']}")
            elif event.type == "status.updated":
                dropped = p.get("dropped_mentions", [])
                if dropped:  # no longer addressed to them: their mention goes
                    await conn.execute(delete(notifications).where(
                        notifications.c.account_id.in_(dropped),
                        notifications.c.dedupe_key == f"mention:{p['status_id']}"))
                for mentioned in p.get("new_mentions", []):
                    await self._notify(conn, mentioned, "mention", p["account_id"], p["status_id"],
                                       f"mention:{p['status_id']}")
                boosters = (await conn.execute(select(statuses.c.account_id).where(
                    statuses.c.reblog_of_id == p["status_id"], statuses.c.deleted_at.is_(None)))).scalars()
                for booster in list(boosters):
                    await self._notify(conn, int(booster), "update", p["account_id"], p["status_id"],
                                       f"update:{p['status_id']}:{event.id}")
            elif event.type == "status.deleted":
                await conn.execute(delete(notifications).where(notifications.c.status_id == p["status_id"]))
                if p.get("reblog_of_id") is not None:
                    await conn.execute(delete(notifications).where(
                        notifications.c.dedupe_key == f"reblog:{p['status_id']}"))
            elif event.type == "favourite.created":
                await self._notify(conn, p["status_account_id"], "favourite", p["account_id"], p["status_id"],
                                   f"favourite:{p['account_id']}:{p['status_id']}")
            elif event.type == "follow.created":
                await conn.execute(delete(notifications).where(  # an accepted request becomes a follow
                    notifications.c.account_id == p["target_account_id"],
                    notifications.c.dedupe_key == f"follow_request:{p['account_id']}"))
                await self._notify(conn, p["target_account_id"], "follow", p["account_id"], None,
                                   f"follow:{p['account_id']}")
            elif event.type == "follow_request.created":
                await self._notify(conn, p["target_account_id"], "follow_request", p["account_id"], None,
                                   f"follow_request:{p['account_id']}")
            elif event.type == "account.erased" and "origin" in p:
                # Erased in its home region: what it left in this region's notifications goes too.
                await conn.execute(delete(notifications).where(notifications.c.from_account_id == p["account_id"]))
            elif event.type in ("follow_request.rejected", "follow_request.withdrawn"):
                await conn.execute(delete(notifications).where(
                    notifications.c.account_id == p["target_account_id"],
                    notifications.c.dedupe_key == f"follow_request:{p['account_id']}"))

    async def _notify(self, conn: Connection, recipient: int, type_: str, sender: int,
                      status_id: int | None, dedupe_key: str) -> None:
        if recipient == sender or not await homed_here(conn, [recipient], self.region):
            return
        muted_or_blocked = (await conn.execute(select(exists().where(
            (mutes.c.account_id == recipient) & (mutes.c.target_account_id == sender)
            & mutes.c.hide_notifications.is_(True)
        ) | exists().where(
            (blocks.c.account_id == recipient) & (blocks.c.target_account_id == sender))))).scalar()
        if muted_or_blocked:
            return
        if status_id is not None and type_ in ("mention",):
            still_mentioned = (await conn.execute(select(exists().where(
                (mentions.c.status_id == status_id) & (mentions.c.account_id == recipient))))).scalar()
            if not still_mentioned:
                return
        notification_id = new_id()
        result = await conn.execute(self.db.insert_ignore(notifications).values(
            id=notification_id, account_id=recipient, type=type_, from_account_id=sender,
            status_id=status_id, dedupe_key=dedupe_key, created_at=datetime.now(UTC)))
        if result.rowcount:
            self._written.append(Fact("notification", notification_id, recipient=recipient))

    async def after_commit(self, _batch: Sequence[Event]) -> None:
        written, self._written = self._written, []
        await self.hub.publish(written)


class SearchIndexer:
    """Keeps the full-text index of posts in step with creates, edits and deletes."""

    name = "search_index"

    def __init__(self, db: Database) -> None:
        self.db = db

    def consumer(self) -> Consumer:
        return Consumer(self.name, self.handle, types={"status.created", "status.updated", "status.deleted"})

    async def handle(self, conn: Connection, batch: Sequence[Event]) -> None:
        for event in batch:
            status_id = event.payload["status_id"]
            await conn.execute(delete(status_search).where(status_search.c.status_id == status_id))
            if event.type == "status.deleted" or event.payload.get("reblog_of_id") is not None:
                continue
            row = (await conn.execute(select(statuses.c.text, statuses.c.spoiler_text, statuses.c.language,
                                             statuses.c.deleted_at).where(statuses.c.id == status_id))).first()
            if row is None or row.deleted_at is not None:
                continue
            body = f"{row.spoiler_text}\n{row.text}"
            await conn.execute(status_search.insert().values(
                status_id=status_id, document=search_text.document(body, row.language)))


class CounterKeeper:
    """Keeps the public counts of this region's posts and people right when others act from elsewhere.

    A like, boost, reply or follow from another region arrives here as a replicated event (``origin``
    set). The count belongs to the post's or account's home region, so it is adjusted here, and the
    new value replicated back out (``status.counted``, ``account.counted``).
    """

    name = "counters"

    def __init__(self, db: Database, region: str) -> None:
        self.db = db
        self.region = region

    def consumer(self) -> Consumer:
        return Consumer(self.name, self.handle, types={
            "favourite.created", "favourite.deleted", "status.created", "status.deleted", "follow.created",
            "follow.deleted"})

    async def handle(self, conn: Connection, batch: Sequence[Event]) -> None:
        from stoa.social.statuses import adjust_count
        from stoa.store.events import emit

        for event in batch:
            p = event.payload
            if "origin" not in p:
                continue  # local actions adjust counts in their own transaction
            if event.type in ("favourite.created", "favourite.deleted"):
                if "status_account_id" in p and await homed_here(conn, [p["status_account_id"]], self.region):
                    await adjust_count(conn, p["status_id"], "favourites_count",
                                       1 if event.type == "favourite.created" else -1)
                    await emit(conn, "status.counted", status_id=p["status_id"], account_id=p["status_account_id"])
            elif event.type in ("status.created", "status.deleted"):
                delta = 1 if event.type == "status.created" else -1
                row = (await conn.execute(select(statuses.c.in_reply_to_id, statuses.c.reblog_of_id,
                                                 statuses.c.visibility).where(
                    statuses.c.id == p["status_id"]))).first()
                if row is None:
                    continue
                parent, column = ((row.reblog_of_id, "reblogs_count") if row.reblog_of_id is not None
                                  else (row.in_reply_to_id, "replies_count"))
                if parent is None or (column == "replies_count" and row.visibility == "direct"):
                    continue
                owner = (await conn.execute(select(statuses.c.account_id).where(statuses.c.id == parent))).scalar()
                if owner is not None and await homed_here(conn, [int(owner)], self.region):
                    await adjust_count(conn, int(parent), column, delta)
                    await emit(conn, "status.counted", status_id=int(parent), account_id=int(owner))
            elif event.type in ("follow.created", "follow.deleted"):
                # Made in another region (a request accepted there, a follower removed there): both
                # ends' counts are kept by their own home regions.
                delta = 1 if event.type == "follow.created" else -1
                for account_id, counter in ((p["target_account_id"], accounts.c.followers_count),
                                            (p["account_id"], accounts.c.following_count)):
                    if await homed_here(conn, [account_id], self.region):
                        await _adjust(conn, account_id, counter, delta)
                        await emit(conn, "account.counted", account_id=account_id)


async def _adjust(conn: Connection, account_id: int, column: Any, delta: int) -> None:
    from stoa.social.relationships import clamped_decrement

    value = column + 1 if delta > 0 else clamped_decrement(conn, column)
    await conn.execute(accounts.update().where(accounts.c.id == account_id).values({column.name: value}))


async def homed_here(conn: Connection, account_ids: list[int], region: str) -> list[int]:
    """The accounts among ``account_ids`` whose home region is ``region``."""
    if not account_ids:
        return []
    rows = await conn.execute(select(accounts.c.id).where(accounts.c.id.in_(account_ids),
                                                          accounts.c.region == region))
    local = {int(r) for r in rows.scalars()}
    return [a for a in account_ids if a in local]


def all_consumers(db: Database, hub: Hub, region: str) -> list[Consumer]:
    """In the order they run: timelines first, so a notification never points at an unseen post; the
    For You tables (``stoa.feeds.trending``, ``stoa.feeds.similar``) last, after the counts they read."""
    return [HomeFanout(db, hub, region).consumer(), NotificationWriter(db, hub, region).consumer(),
            SearchIndexer(db).consumer(), CounterKeeper(db, region).consumer(), TrendingKeeper(db, region).consumer(),
            VectorKeeper(db).consumer()]
