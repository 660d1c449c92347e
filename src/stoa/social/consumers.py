"""Event consumers that derive state from the outbox: home timelines, notifications, search, counts.

Every handler is idempotent, so replaying events after a crash, or from a rewound cursor, changes
nothing that was already done: projections are written with INSERT ... ON CONFLICT DO NOTHING and
deleted by key, and the one relative write — a count kept for another region's like, boost, reply
or follow — is applied once per event (``CounterKeeper``). After each committed batch, live streams
are told what changed.

Importing this module also registers social's replication rules (``stoa.social.replication``):
whatever runs social's consumers replicates by social's rules.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import and_, delete, exists, literal, select

from stoa.social import replication as _replication_rules  # noqa: F401  (registers them)
from stoa.social import search_text
from stoa.social.events import (
    AccountCounted,
    AccountErased,
    BlockCreated,
    FavouriteCreated,
    FavouriteDeleted,
    FollowCreated,
    FollowDeleted,
    FollowRequestCreated,
    FollowRequestRejected,
    FollowRequestWithdrawn,
    MuteCreated,
    NotificationDismissed,
    NotificationsCleared,
    StatusCounted,
    StatusCreated,
    StatusDeleted,
    StatusUpdated,
)
from stoa.social.streaming import Fact, Hub
from stoa.store import counters
from stoa.store.database import Connection, Database
from stoa.store.events import Consumer, Entry, Event, emit
from stoa.store.ids import new_id
from stoa.store.schema import (
    accounts,
    blocks,
    counted_events,
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
    events: ClassVar[tuple[type[Event], ...]] = (StatusCreated, StatusDeleted, StatusUpdated, FollowCreated,
                                                 FollowDeleted, BlockCreated, MuteCreated)

    def __init__(self, db: Database, hub: Hub, region: str) -> None:
        self.db = db
        self.hub = hub
        self.region = region  # home timelines are private: only this region's people get rows here
        self._facts: list[Fact] = []

    def consumer(self) -> Consumer:
        return Consumer(self.name, self.handle, events=self.events, after_commit=self.after_commit)

    async def handle(self, conn: Connection, batch: Sequence[Entry]) -> None:
        for entry in batch:
            match entry.event:
                case StatusCreated() as event:
                    await self._deliver(conn, event)
                case StatusDeleted() as event:
                    ids = [event.status_id]
                    if event.reblog_of_id is None:
                        ids += [int(x) for x in (await conn.execute(
                            select(statuses.c.id).where(statuses.c.reblog_of_id == event.status_id))).scalars()]
                    await conn.execute(delete(home_feed).where(home_feed.c.status_id.in_(ids)))
                    self._facts.append(Fact("delete", event.status_id,
                                            public=event.visibility in ("public", "unlisted")))
                case StatusUpdated() as event:
                    if event.dropped_mentions and event.visibility == "direct":
                        await conn.execute(delete(home_feed).where(
                            home_feed.c.status_id == event.status_id,
                            home_feed.c.account_id.in_(event.dropped_mentions)))
                    self._facts.append(Fact("edit", event.status_id,
                                            public=event.visibility in ("public", "unlisted")))
                case FollowCreated() as event:
                    await self._backfill(conn, event.account_id, event.target_account_id)
                case FollowDeleted() | BlockCreated() | MuteCreated() as event:
                    await conn.execute(delete(home_feed).where(
                        home_feed.c.account_id == event.account_id,
                        home_feed.c.author_id == event.target_account_id,
                        home_feed.c.status_id.not_in(select(statuses.c.id).where(
                            statuses.c.account_id == event.account_id))))
                    if isinstance(event, BlockCreated):
                        await conn.execute(delete(home_feed).where(
                            home_feed.c.account_id == event.target_account_id,
                            home_feed.c.author_id == event.account_id))

    async def _deliver(self, conn: Connection, event: StatusCreated) -> None:
        status_id, author = event.status_id, event.account_id
        status = (await conn.execute(select(statuses.c.deleted_at).where(statuses.c.id == status_id))).first()
        if status is None or status.deleted_at is not None:
            return
        visibility = event.visibility
        insert = self.db.insert_ignore(home_feed)
        if visibility == "direct":
            recipients = await homed_here(conn, [author, *event.mentions], self.region)
            if recipients:
                await conn.execute(insert, [{"account_id": a, "status_id": status_id, "author_id": author}
                                            for a in recipients])
        else:
            related = [author]
            if event.reblog_of_account_id:
                related.append(event.reblog_of_account_id)
            # One INSERT ... SELECT: the database copies the post id to every follower.
            source = select(follows.c.account_id, literal(status_id), literal(author)).where(
                follows.c.target_account_id == author, _exclude_muters_and_blockers(related),
                exists().where(accounts.c.id == follows.c.account_id, accounts.c.region == self.region))
            reply_to = event.in_reply_to_account_id
            if reply_to is not None and reply_to != author:
                # Mastodon's rule: a reply reaches followers who also follow the person replied to.
                other = follows.alias("other")
                source = source.where(exists().where(and_(
                    other.c.account_id == follows.c.account_id, other.c.target_account_id == reply_to)))
            if event.reblog_of_id is not None:
                source = source.where(follows.c.show_reblogs.is_(True))
            await conn.execute(insert.from_select(["account_id", "status_id", "author_id"], source))
        public = visibility == "public" and event.reblog_of_id is None
        self._facts.append(Fact("status", status_id, public=public, tags=list(event.tags) if public else []))

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

    async def after_commit(self, _batch: Sequence[Entry]) -> None:
        facts, self._facts = self._facts, []
        await self.hub.publish(facts)


class NotificationWriter:
    """Turns mentions, boosts, favourites, follows and edits into notifications."""

    name = "notifications"
    events: ClassVar[tuple[type[Event], ...]] = (
        StatusCreated, StatusUpdated, StatusDeleted, FavouriteCreated, FollowCreated, FollowRequestCreated,
        FollowRequestRejected, FollowRequestWithdrawn, AccountErased, NotificationDismissed, NotificationsCleared)

    def __init__(self, db: Database, hub: Hub, region: str) -> None:
        self.db = db
        self.hub = hub
        self.region = region  # notifications are private: written in the recipient's home region only
        self._written: list[Fact] = []

    def consumer(self) -> Consumer:
        return Consumer(self.name, self.handle, events=self.events, after_commit=self.after_commit)

    async def handle(self, conn: Connection, batch: Sequence[Entry]) -> None:
        for entry in batch:
            match entry.event:
                case StatusCreated() as event:
                    await self._status_created(conn, event)
                case StatusUpdated() as event:
                    if event.dropped_mentions:  # no longer addressed to them: their mention goes
                        await conn.execute(delete(notifications).where(
                            notifications.c.account_id.in_(event.dropped_mentions),
                            notifications.c.dedupe_key == f"mention:{event.status_id}"))
                    for mentioned in event.new_mentions:
                        await self._notify(conn, mentioned, "mention", event.account_id, event.status_id,
                                           f"mention:{event.status_id}")
                    boosters = (await conn.execute(select(statuses.c.account_id).where(
                        statuses.c.reblog_of_id == event.status_id, statuses.c.deleted_at.is_(None)))).scalars()
                    for booster in list(boosters):
                        await self._notify(conn, int(booster), "update", event.account_id, event.status_id,
                                           f"update:{event.status_id}:{entry.id}")
                case StatusDeleted() as event:
                    await conn.execute(delete(notifications).where(notifications.c.status_id == event.status_id))
                    if event.reblog_of_id is not None:
                        await conn.execute(delete(notifications).where(
                            notifications.c.dedupe_key == f"reblog:{event.status_id}"))
                case FavouriteCreated() as event if event.status_account_id is not None:
                    await self._notify(conn, event.status_account_id, "favourite", event.account_id,
                                       event.status_id, f"favourite:{event.account_id}:{event.status_id}")
                case FollowCreated() as event:
                    await conn.execute(delete(notifications).where(  # an accepted request becomes a follow
                        notifications.c.account_id == event.target_account_id,
                        notifications.c.dedupe_key == f"follow_request:{event.account_id}"))
                    await self._notify(conn, event.target_account_id, "follow", event.account_id, None,
                                       f"follow:{event.account_id}")
                case FollowRequestCreated() as event:
                    await self._notify(conn, event.target_account_id, "follow_request", event.account_id, None,
                                       f"follow_request:{event.account_id}")
                case AccountErased() as event if entry.origin is not None:
                    # Erased in its home region: what it left in this region's notifications goes too.
                    await conn.execute(delete(notifications).where(
                        notifications.c.from_account_id == event.account_id))
                case FollowRequestRejected() | FollowRequestWithdrawn() as event:
                    await conn.execute(delete(notifications).where(
                        notifications.c.account_id == event.target_account_id,
                        notifications.c.dedupe_key == f"follow_request:{event.account_id}"))
                case NotificationDismissed() as event:  # gone already, unless a replay wrote it back
                    await conn.execute(delete(notifications).where(
                        notifications.c.account_id == event.account_id,
                        notifications.c.dedupe_key == event.dedupe_key))
                case NotificationsCleared() as event:  # what the events before it notified
                    await conn.execute(delete(notifications).where(notifications.c.account_id == event.account_id))

    async def _status_created(self, conn: Connection, event: StatusCreated) -> None:
        if event.reblog_of_id is not None:
            if event.reblog_of_account_id is not None:
                await self._notify(conn, event.reblog_of_account_id, "reblog", event.account_id,
                                   event.reblog_of_id, f"reblog:{event.status_id}")
            return
        for mentioned in event.mentions:
            await self._notify(conn, mentioned, "mention", event.account_id, event.status_id,
                               f"mention:{event.status_id}")
        if event.visibility in ("public", "unlisted", "private") and event.in_reply_to_id is None:
            subscribers = (await conn.execute(select(follows.c.account_id).where(
                follows.c.target_account_id == event.account_id, follows.c.notify.is_(True)))).scalars()
            for subscriber in list(subscribers):
                await self._notify(conn, int(subscriber), "status", event.account_id, event.status_id,
                                   f"status:{event.status_id}")

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

    async def after_commit(self, _batch: Sequence[Entry]) -> None:
        written, self._written = self._written, []
        await self.hub.publish(written)


class SearchIndexer:
    """Keeps the full-text index of posts in step with creates, edits and deletes."""

    name = "search_index"
    events: ClassVar[tuple[type[Event], ...]] = (StatusCreated, StatusUpdated, StatusDeleted)

    def __init__(self, db: Database) -> None:
        self.db = db

    def consumer(self) -> Consumer:
        return Consumer(self.name, self.handle, events=self.events)

    async def handle(self, conn: Connection, batch: Sequence[Entry]) -> None:
        for entry in batch:
            event = entry.event
            if not isinstance(event, StatusCreated | StatusUpdated | StatusDeleted):
                continue
            status_id = event.status_id
            await conn.execute(delete(status_search).where(status_search.c.status_id == status_id))
            boost = isinstance(event, StatusCreated) and event.reblog_of_id is not None
            if isinstance(event, StatusDeleted) or boost:  # a boost has no text of its own
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

    The adjustment is relative (a like from another region leaves no row here to recount), so each
    event's is applied once: its id goes into ``counted_events`` in the same transaction, and a
    replayed event already there is skipped. That costs one primary-key insert per cross-region
    engagement and nothing for local actions, whose counts change in their own transaction.
    """

    name = "counters"
    events: ClassVar[tuple[type[Event], ...]] = (
        FavouriteCreated, FavouriteDeleted, StatusCreated, StatusDeleted, FollowCreated, FollowDeleted)

    def __init__(self, db: Database, region: str) -> None:
        self.db = db
        self.region = region

    def consumer(self) -> Consumer:
        return Consumer(self.name, self.handle, events=self.events)

    async def handle(self, conn: Connection, batch: Sequence[Entry]) -> None:
        from stoa.social.statuses import adjust_count

        for entry in batch:
            if entry.origin is None:
                continue  # local actions adjust counts in their own transaction
            match entry.event:
                case FavouriteCreated() | FavouriteDeleted() as event:
                    author = event.status_account_id
                    if author is not None and await homed_here(conn, [author], self.region) \
                            and await self._first_time(conn, entry):
                        await adjust_count(conn, event.status_id, "favourites_count",
                                           1 if isinstance(event, FavouriteCreated) else -1)
                        await emit(conn, StatusCounted(status_id=event.status_id, account_id=author))
                case StatusCreated() | StatusDeleted() as event:
                    row = (await conn.execute(select(statuses.c.in_reply_to_id, statuses.c.reblog_of_id,
                                                     statuses.c.visibility).where(
                        statuses.c.id == event.status_id))).first()
                    if row is None:
                        continue
                    parent, column = ((row.reblog_of_id, "reblogs_count") if row.reblog_of_id is not None
                                      else (row.in_reply_to_id, "replies_count"))
                    if parent is None or (column == "replies_count" and row.visibility == "direct"):
                        continue
                    owner = (await conn.execute(select(statuses.c.account_id).where(
                        statuses.c.id == parent))).scalar()
                    if owner is not None and await homed_here(conn, [int(owner)], self.region) \
                            and await self._first_time(conn, entry):
                        await adjust_count(conn, int(parent), column, 1 if isinstance(event, StatusCreated) else -1)
                        await emit(conn, StatusCounted(status_id=int(parent), account_id=int(owner)))
                case FollowCreated() | FollowDeleted() as event:
                    # Made in another region (a request accepted there, a follower removed there): both
                    # ends' counts are kept by their own home regions.
                    ends = [(account_id, counter) for account_id, counter in (
                        (event.target_account_id, accounts.c.followers_count),
                        (event.account_id, accounts.c.following_count))
                        if await homed_here(conn, [account_id], self.region)]
                    if ends and await self._first_time(conn, entry):
                        for account_id, counter in ends:
                            await _adjust(conn, account_id, counter, 1 if isinstance(event, FollowCreated) else -1)
                            await emit(conn, AccountCounted(account_id=account_id))

    async def _first_time(self, conn: Connection, entry: Entry) -> bool:
        """Record that this event's count change is applied now; False if it was applied before."""
        recorded = await conn.execute(self.db.insert_ignore(counted_events).values(
            event_id=entry.id, created_at=datetime.now(UTC)))
        return bool(recorded.rowcount)


async def _adjust(conn: Connection, account_id: int, column: Any, delta: int) -> None:
    await counters.shift(conn, accounts, account_id, column.name, 1 if delta > 0 else -1)


async def homed_here(conn: Connection, account_ids: list[int], region: str) -> list[int]:
    """The accounts among ``account_ids`` whose home region is ``region``."""
    if not account_ids:
        return []
    rows = await conn.execute(select(accounts.c.id).where(accounts.c.id.in_(account_ids),
                                                          accounts.c.region == region))
    local = {int(r) for r in rows.scalars()}
    return [a for a in account_ids if a in local]


def all_consumers(db: Database, hub: Hub, region: str) -> list[Consumer]:
    """Social's consumers in the order they run: timelines first, so a notification never points at an
    unseen post, and the counts before anything above social that reads them (``stoa.worker.consumers``)."""
    return [HomeFanout(db, hub, region).consumer(), NotificationWriter(db, hub, region).consumer(),
            SearchIndexer(db).consumer(), CounterKeeper(db, region).consumer()]
