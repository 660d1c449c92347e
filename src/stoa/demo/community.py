"""Generated communities: the demo (a few hundred people) and benchmark-sized ones.

People follow each other along a power law (a few are followed by many,
most by few — preferential attachment, as on every real network); they post
in English, Italian and French with hashtags, reply, boost and like. Rows
are written in bulk and derived state (home timelines, notifications, the
search index) is built in bulk too, so that a million posts load in minutes
and the result is exactly what the event consumers would have produced
(tests/demo/test_community.py plays the same history through the actions and
the consumers and compares every projection, row for row).
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Table, func, select, text

from stoa.feeds import similar, trending
from stoa.social import search_text
from stoa.social import text as post_text
from stoa.social.consumers import CounterKeeper, HomeFanout, NotificationWriter, SearchIndexer
from stoa.store.database import Database
from stoa.store.ids import historical_id
from stoa.store.schema import (
    accounts,
    consumer_cursors,
    events,
    favourites,
    follows,
    mentions,
    notifications,
    status_search,
    status_tags,
    statuses,
    tags,
    users,
)

HOME_FEED_DEPTH = 400  # posts kept per home timeline when built in bulk (Mastodon keeps 400 too)
SIMILAR_INDEX_POSTS = 100_000  # newest public posts given a text vector in bulk (STOA_SIMILAR_INDEX_POSTS)
DEMO_PASSWORD = "stoa-demo-password"

TOPICS = {
    "en": [("cycling", "Rode {n} km along the river this morning, legs still burning"),
           ("coffee", "Third espresso of the day and the {n}th bug fixed"),
           ("opensource", "Just merged my {n}th pull request to an open source project"),
           ("photography", "Golden hour over the old harbour, shot {n} frames"),
           ("music", "This album has been on repeat {n} times this week"),
           ("climate", "Our town planted {n} trees in the park today"),
           ("football", "What a match, {n} minutes of pure tension")],
    "it": [("ciclismo", "Oggi {n} km in bici sulle colline, che fatica"),
           ("cucina", "Ho provato la ricetta della nonna per la {n}a volta, finalmente perfetta"),
           ("calcio", "Partita incredibile, {n} minuti di emozioni"),
           ("musica", "Questo disco lo ascolto da {n} giorni di fila"),
           ("fotografia", "Tramonto sul lago, ho scattato {n} foto"),
           ("viaggi", "Il treno per Napoli era in ritardo di {n} minuti, come sempre")],
    "fr": [("vélo", "J'ai fait {n} km à vélo le long de la Loire ce matin"),
           ("cuisine", "La tarte tatin réussie après {n} essais, enfin"),
           ("cinéma", "Vu {n} films ce mois-ci, le dernier était magnifique"),
           ("musique", "Ce concert était génial, {n} rappels"),
           ("photographie", "Les quais de Paris à l'aube, {n} photos"),
           ("lecture", "Fini mon {n}e roman de l'année, quel plaisir")],
}
FIRST_NAMES = ["alice", "bruno", "chiara", "david", "elena", "francois", "giulia", "hugo", "ines", "jack",
               "karim", "lucia", "marco", "nina", "oscar", "paola", "quentin", "rosa", "samuel", "teresa",
               "ugo", "valerie", "walter", "xenia", "yann", "zoe"]


@dataclass(frozen=True)
class CommunitySize:
    accounts: int
    posts: int
    follows_per_account: int = 20
    likes_per_post: float = 2.0
    reply_share: float = 0.15
    boost_share: float = 0.05
    follow_exponent: float = 1.1  # Zipf exponent of who gets followed (higher: a few stars)
    posting_exponent: float = 0.8  # Zipf exponent of who posts (0: everyone alike)
    celebrity_followers: int = 0  # if set, account #1 ("star") is followed by exactly this many


DEMO = CommunitySize(accounts=300, posts=3000)

Progress = Callable[[str, int, int], None]


def _no_progress(_stage: str, _done: int, _total: int) -> None:
    return None


class _Ids:
    """Strictly increasing ids for rows dated at (non-decreasing) millisecond times."""

    def __init__(self) -> None:
        self.last = 0

    def at(self, ms: int) -> int:
        self.last = max(self.last + 1, historical_id(ms, 0))
        return self.last


def _zipf_cumulative(n: int, exponent: float) -> list[float]:
    return list(itertools.accumulate(1.0 / (rank + 1) ** exponent for rank in range(n)))


def _power_law_targets(rng: random.Random, size: CommunitySize) -> list[set[int]]:
    """Each account follows others with probability ~ their (Zipf) popularity: a few stars, a long tail."""
    n = size.accounts
    cumulative = _zipf_cumulative(n, size.follow_exponent)
    population = range(n)
    following: list[set[int]] = []
    for me in range(n):
        k = max(1, min(n - 1, int(rng.expovariate(1 / size.follows_per_account)) + 1))
        chosen = set(rng.choices(population, cum_weights=cumulative, k=k + 2))
        chosen.discard(me)
        following.append(chosen)
    if size.celebrity_followers and n > 1:
        fans = set(range(2, min(n, size.celebrity_followers + 2)))
        for me in range(n):
            following[me].discard(1)
            if me in fans:
                following[me].add(1)
    return following


@dataclass(frozen=True)
class _People:
    """The generated accounts: names, languages and ids by index (index 0 is ``demo``)."""

    names: list[str]
    languages: list[str]
    ids: list[int]


@dataclass
class _Posts:
    """The generated posts and what comes with them, in time order."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    tag_ids: dict[str, int] = field(default_factory=dict)
    tag_links: list[dict[str, int]] = field(default_factory=list)
    search_rows: list[dict[str, Any]] = field(default_factory=list)
    originals: list[tuple[int, int, str]] = field(default_factory=list)  # (status id, author index, visibility)


@dataclass(frozen=True)
class _Period:
    """The time the history spans, ending now."""

    now: datetime
    start: datetime

    @property
    def start_ms(self) -> int:
        return int(self.start.timestamp() * 1000)

    @property
    def span_ms(self) -> int:
        return int((self.now - self.start).total_seconds() * 1000)


BATCH = 5000  # rows per INSERT


async def generate(db: Database, size: CommunitySize, *, region: str, base_url: str, password_hash: str,
                   seed: int = 7, progress: Progress = _no_progress, days: int = 30) -> dict[str, int]:
    """Fill an empty store with a community; returns counts of what was written."""
    rng = random.Random(seed)
    await _refuse_a_store_with_accounts(db)
    now = datetime.now(UTC)
    period = _Period(now, now - timedelta(days=days))
    people = _people(rng, size, period)
    await _write_people(db, people, size, region, password_hash, period, progress)
    follow_rows = _follow_rows(rng, size, people, period)
    await _write(db, progress, ("follows", follows, follow_rows))
    posting = _zipf_cumulative(size.accounts, size.posting_exponent)  # who posts, and who likes
    posts = _posts(rng, size, people, period, posting, base_url)
    await _write_posts(db, posts, period, progress)
    like_rows = _like_rows(rng, size, people, posts, posting, period)
    await _write(db, progress, (None, mentions, _mention_rows(posts)), ("likes", favourites, like_rows))
    progress("timelines and counters", 0, 1)
    await rebuild_derived(db, with_notifications=size.accounts <= 5_000)
    progress("timelines and counters", 1, 1)
    return {"accounts": size.accounts, "follows": len(follow_rows), "posts": len(posts.rows),
            "likes": len(like_rows)}


async def _refuse_a_store_with_accounts(db: Database) -> None:
    async with db.read() as conn:
        if (await conn.execute(select(func.count()).select_from(accounts))).scalar_one():
            raise RuntimeError("The store already has accounts; a community is only generated into an empty store")


async def _write(db: Database, progress: Progress, *tables: tuple[str | None, Table, list[dict[str, Any]]]) -> None:
    """Insert the rows of each table in batches, in one transaction, reporting each named stage."""
    async with db.write() as conn:
        for stage, table, rows in tables:
            for i in range(0, len(rows), BATCH):
                await conn.execute(table.insert(), rows[i:i + BATCH])
                if stage is not None:
                    progress(stage, min(i + BATCH, len(rows)), len(rows))


def _people(rng: random.Random, size: CommunitySize, period: _Period) -> _People:
    """A named demo account first, then ``star``, then the others; each with a language of TOPICS."""
    names = ["demo", "star"] + [f"{FIRST_NAMES[i % len(FIRST_NAMES)]}{i}" for i in range(2, size.accounts)]
    languages = list(TOPICS)
    account_language = [rng.choice(languages) for _ in range(size.accounts)]
    ids = [historical_id(period.start_ms - size.accounts + i, i) for i in range(size.accounts)]
    return _People(names[:size.accounts], account_language, ids)


async def _write_people(db: Database, people: _People, size: CommunitySize, region: str, password_hash: str,
                        period: _Period, progress: Progress) -> None:
    account_rows, user_rows = [], []
    for i, name in enumerate(people.names):
        created = period.start - timedelta(minutes=size.accounts - i)
        account_rows.append({
            "id": people.ids[i], "username": name, "username_lower": name.lower(),
            "display_name": name.capitalize(), "note": f"Demo account ({people.languages[i]})", "fields": [],
            "locked": False, "bot": False, "discoverable": True, "region": region, "followers_count": 0,
            "following_count": 0, "statuses_count": 0, "created_at": created, "updated_at": created,
        })
        user_rows.append({
            "account_id": people.ids[i], "email": f"{name}@demo.stoa.invalid", "password_hash": password_hash,
            "role": "admin" if i == 0 else "user", "locale": people.languages[i],
            "default_visibility": "public", "default_sensitive": False, "created_at": created,
        })
    await _write(db, progress, (None, accounts, account_rows), ("accounts", users, user_rows))


def _follow_rows(rng: random.Random, size: CommunitySize, people: _People, period: _Period) -> list[dict[str, Any]]:
    """The follow graph (a power law), every follow made when the history starts."""
    rows = []
    ids = _Ids()
    for me, targets in enumerate(_power_law_targets(rng, size)):
        for t in targets:
            rows.append({"id": ids.at(period.start_ms), "account_id": people.ids[me],
                         "target_account_id": people.ids[t], "show_reblogs": True, "notify": False,
                         "created_at": period.start})
    return rows


def _posts(rng: random.Random, size: CommunitySize, people: _People, period: _Period, posting: list[float],
           base_url: str) -> _Posts:
    """Posts, replies and boosts: authors drawn by how much they post, times spread over the period, in order."""
    authors = rng.choices(range(size.accounts), cum_weights=posting, k=size.posts)
    offsets = sorted(rng.randrange(period.span_ms) for _ in range(size.posts))
    posts = _Posts()
    for n in range(size.posts):
        at_ms = period.start_ms + offsets[n]
        row = _status_row(historical_id(at_ms, n), people.ids[authors[n]], datetime.fromtimestamp(at_ms / 1000, UTC))
        roll = rng.random()
        if posts.originals and roll < size.boost_share:
            target_id, target_author, _ = posts.originals[rng.randrange(max(0, len(posts.originals) - 500),
                                                                        len(posts.originals))]
            if target_author != authors[n]:
                posts.rows.append({**row, "reblog_of_id": target_id, "conversation_id": target_id})
            continue
        _add_post_or_reply(rng, size, people, period, posts, row, authors[n], roll, base_url)
    return posts


def _status_row(status_id: int, account_id: int, created: datetime) -> dict[str, Any]:
    return {
        "id": status_id, "account_id": account_id, "spoiler_text": "", "sensitive": False,
        "visibility": "public", "language": None, "in_reply_to_id": None, "in_reply_to_account_id": None,
        "reblog_of_id": None, "conversation_id": status_id, "app_id": None, "replies_count": 0,
        "reblogs_count": 0, "favourites_count": 0, "created_at": created, "text": "", "content": "",
    }


def _add_post_or_reply(rng: random.Random, size: CommunitySize, people: _People, period: _Period, posts: _Posts,
                row: dict[str, Any], author: int, roll: float, base_url: str) -> None:
    """An original post or a reply (to one of the 200 newest), on a topic of the author's language."""
    language = people.languages[author]
    topic, template = rng.choice(TOPICS[language])
    body = template.format(n=rng.randint(2, 90)) + f" #{topic}"
    mentioned: set[str] = set()
    if posts.originals and roll < size.boost_share + size.reply_share:
        parent_id, parent_author, _ = posts.originals[rng.randrange(max(0, len(posts.originals) - 200),
                                                                    len(posts.originals))]
        body = f"@{people.names[parent_author]} {body}"
        mentioned = {people.names[parent_author]}
        row.update(in_reply_to_id=parent_id, in_reply_to_account_id=people.ids[parent_author],
                   conversation_id=parent_id)
    elif rng.random() < 0.05:
        row["visibility"] = "unlisted"
    row.update(text=body, language=language, content=post_text.render(body, base_url, mentioned))
    if topic not in posts.tag_ids:
        posts.tag_ids[topic] = historical_id(period.start_ms, 10_000 + len(posts.tag_ids))
    posts.tag_links.append({"tag_id": posts.tag_ids[topic], "status_id": row["id"]})
    posts.search_rows.append({"status_id": row["id"], "document": search_text.document(body, language)})
    posts.originals.append((row["id"], author, row["visibility"]))
    posts.rows.append(row)


async def _write_posts(db: Database, posts: _Posts, period: _Period, progress: Progress) -> None:
    tag_rows = [{"id": i, "name": t, "name_lower": t.lower(), "created_at": period.start}
                for t, i in posts.tag_ids.items()]
    await _write(db, progress, (None, tags, tag_rows), ("posts", statuses, posts.rows),
                 (None, status_tags, posts.tag_links), ("search index", status_search, posts.search_rows))


def _mention_rows(posts: _Posts) -> list[dict[str, Any]]:
    """Each reply mentions the person it answers (unless it answers its author)."""
    return [{"status_id": r["id"], "account_id": r["in_reply_to_account_id"]}
            for r in posts.rows if r["in_reply_to_account_id"] is not None
            and r["in_reply_to_account_id"] != r["account_id"]]


def _like_rows(rng: random.Random, size: CommunitySize, people: _People, posts: _Posts, posting: list[float],
               period: _Period) -> list[dict[str, Any]]:
    """Likes of the original posts and replies, by people drawn as authors are (who posts, likes)."""
    rows: list[dict[str, Any]] = []
    liked: set[tuple[int, int]] = set()
    ids = _Ids()
    for sid, author, _visibility in posts.originals:
        for _ in range(int(rng.expovariate(1 / size.likes_per_post))):
            fan = rng.choices(range(size.accounts), cum_weights=posting, k=1)[0]
            if fan == author or (fan, sid) in liked:
                continue
            liked.add((fan, sid))
            rows.append({"id": ids.at(sid >> 16), "account_id": people.ids[fan], "status_id": sid,
                         "created_at": period.now})
    return rows


async def rebuild_derived(db: Database, *, with_notifications: bool = True) -> None:
    """Recompute counters and home timelines from the rows, and skip consumers past history."""
    async with db.write() as conn:
        if conn.dialect.name == "postgresql":
            # Fresh statistics first: without them the planner answers the per-post counts below (trending's
            # regional engagement above all) with plans that take hours at a million posts.
            await conn.execute(text("ANALYZE"))
        for statement in COUNTER_SQL:
            await conn.execute(text(statement))
        await conn.execute(text("DELETE FROM home_feed"))
        await conn.execute(text(HOME_FEED_SQL), {"depth": HOME_FEED_DEPTH})
        if with_notifications:
            await _bulk_notifications(conn)
        await trending.rebuild(conn)
        await similar.rebuild(conn, db, SIMILAR_INDEX_POSTS)
        last_event = (await conn.execute(select(func.max(events.c.id)))).scalar() or 0
        for name in BUILT_IN_BULK:
            await conn.execute(consumer_cursors.delete().where(consumer_cursors.c.name == name))
            await conn.execute(consumer_cursors.insert().values(name=name, position=last_event,
                                                                updated_at=datetime.now(UTC)))


# Every consumer whose projection is built above: each starts after the history, or it would apply the
# generated events a second time (the counter keeper's ±1 above all).
BUILT_IN_BULK = (HomeFanout.name, NotificationWriter.name, SearchIndexer.name, CounterKeeper.name,
                 trending.TrendingKeeper.name, similar.VectorKeeper.name)

COUNTER_SQL = [
    "UPDATE accounts SET followers_count = (SELECT count(*) FROM follows WHERE target_account_id = accounts.id),"
    " following_count = (SELECT count(*) FROM follows WHERE follows.account_id = accounts.id),"
    " statuses_count = (SELECT count(*) FROM statuses WHERE statuses.account_id = accounts.id"
    " AND deleted_at IS NULL),"
    " last_status_at = (SELECT max(created_at) FROM statuses WHERE statuses.account_id = accounts.id)",
    "UPDATE statuses SET favourites_count = (SELECT count(*) FROM favourites f WHERE f.status_id = statuses.id),"
    " reblogs_count = (SELECT count(*) FROM statuses r WHERE r.reblog_of_id = statuses.id"
    " AND r.deleted_at IS NULL),"
    " replies_count = (SELECT count(*) FROM statuses r WHERE r.in_reply_to_id = statuses.id"
    " AND r.deleted_at IS NULL AND r.visibility <> 'direct')",
]

# Each person's home: their own posts and those of whom they follow (replies only when they also
# follow the person replied to), newest HOME_FEED_DEPTH per person.
HOME_FEED_SQL = """
INSERT INTO home_feed (account_id, status_id, author_id)
SELECT account_id, status_id, author_id FROM (
  SELECT c.account_id, c.status_id, c.author_id,
         ROW_NUMBER() OVER (PARTITION BY c.account_id ORDER BY c.status_id DESC) AS rn
  FROM (
    SELECT f.account_id AS account_id, s.id AS status_id, s.account_id AS author_id
    FROM follows f JOIN statuses s ON s.account_id = f.target_account_id
    WHERE s.deleted_at IS NULL AND s.visibility IN ('public', 'unlisted', 'private')
      AND (s.in_reply_to_account_id IS NULL OR s.in_reply_to_account_id = s.account_id
           OR EXISTS (SELECT 1 FROM follows o WHERE o.account_id = f.account_id
                      AND o.target_account_id = s.in_reply_to_account_id))
    UNION
    SELECT s.account_id, s.id, s.account_id FROM statuses s WHERE s.deleted_at IS NULL
  ) c
) ranked WHERE rn <= :depth
"""


async def _bulk_notifications(conn: Any) -> None:
    """Follow, favourite, mention and boost notifications for the generated history."""
    rows: list[dict[str, Any]] = []

    def add(recipient: int, kind: str, sender: int, status_id: int | None, key: str, at: int) -> None:
        rows.append({"id": at, "account_id": recipient, "type": kind,
                     "from_account_id": sender, "status_id": status_id, "dedupe_key": key,
                     "created_at": datetime.fromtimestamp((at >> 16) / 1000, UTC)})

    for r in await conn.execute(select(follows.c.id, follows.c.account_id, follows.c.target_account_id)):
        add(r.target_account_id, "follow", r.account_id, None, f"follow:{r.account_id}", r.id)
    for r in await conn.execute(select(favourites.c.id, favourites.c.account_id, favourites.c.status_id,
                                       statuses.c.account_id.label("author"))
                                .join(statuses, statuses.c.id == favourites.c.status_id)):
        add(r.author, "favourite", r.account_id, r.status_id, f"favourite:{r.account_id}:{r.status_id}", r.id)
    for r in await conn.execute(select(mentions.c.status_id, mentions.c.account_id,
                                       statuses.c.account_id.label("author"))
                                .join(statuses, statuses.c.id == mentions.c.status_id)):
        add(r.account_id, "mention", r.author, r.status_id, f"mention:{r.status_id}", r.status_id)
    boosts = statuses.alias("boosts")
    for r in await conn.execute(select(boosts.c.id, boosts.c.account_id, statuses.c.id.label("original"),
                                       statuses.c.account_id.label("author"))
                                .join(statuses, statuses.c.id == boosts.c.reblog_of_id)):
        add(r.author, "reblog", r.account_id, r.original, f"reblog:{r.id}", r.id)
    rows.sort(key=lambda r: r["id"])
    ids = _Ids()
    for row in rows:  # ids ordered by when the underlying action happened
        row["id"] = ids.at(row["id"] >> 16)
    for i in range(0, len(rows), BATCH):
        await conn.execute(notifications.insert(), rows[i:i + BATCH])
