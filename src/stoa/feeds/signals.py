"""For You, before the sources: everything the feed reads about the viewer, at request time.

Their languages (locale, default posting language, languages of the posts they engaged with), whom
they follow, mute and block, their favourites, boosts and long watches of the last
``AFFINITY_WINDOW`` (affinities with authors and hashtags; the seeds of co-engagement and of their
taste for the similar source), what they have seen and skipped, and their feed preferences ("show
less", hidden labels, "reset my history"). Read on every request, so a like changes the next page.
All of it is private data, in the viewer's home region. The feed without profiling reads no
behaviour (no seen posts, no skips).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from stoa.feeds import trending
from stoa.social.timelines import hidden_accounts
from stoa.store.database import Connection
from stoa.store.ids import id_for_time
from stoa.store.schema import favourites, feed_preferences, follows, status_tags, statuses, tags, views

WATCHED_MS = 3000  # watched at least this long: counts as interest in the author and the hashtags
RECENT_VIEWS = 5000  # the newest views read per request
AFFINITY_WINDOW = timedelta(days=60)


@dataclass
class Viewer:
    id: int
    languages: set[str]
    following: set[int]
    author_affinity: Counter[int]
    tag_affinity: Counter[str]
    hidden: set[int]
    personalised: bool
    less_statuses: set[int] = field(default_factory=set)
    less_authors: set[int] = field(default_factory=set)
    less_tags: set[str] = field(default_factory=set)
    reset_at: datetime | None = None
    seen: set[int] = field(default_factory=set)
    skipped_authors: Counter[int] = field(default_factory=Counter)
    engaged: list[int] = field(default_factory=list)  # liked, boosted or watched posts, newest first
    hidden_labels: set[str] = field(default_factory=set)  # labels the viewer chose to hide from For You


async def read(conn: Connection, viewer_id: int, personalised: bool) -> Viewer:
    languages = await trending.languages_of(conn, viewer_id)
    less: dict[str, set[str]] = {"less_status": set(), "less_author": set(), "less_tag": set(), "reset": set(),
                                 "hide_label": set()}
    for row in await conn.execute(select(feed_preferences.c.kind, feed_preferences.c.value)
                                  .where(feed_preferences.c.account_id == viewer_id)):
        less.setdefault(row.kind, set()).add(row.value)
    reset_at = datetime.fromisoformat(max(less["reset"])) if less["reset"] else None
    start = datetime.now(UTC) - AFFINITY_WINDOW
    since = id_for_time(max(start, reset_at) if reset_at else start)  # "reset my history" forgets engagements
    liked = select(favourites.c.status_id.label("sid")).where(favourites.c.account_id == viewer_id,
                                                              favourites.c.id > since)
    boosted = select(statuses.c.reblog_of_id.label("sid")).where(
        statuses.c.account_id == viewer_id, statuses.c.reblog_of_id.is_not(None), statuses.c.id > since)
    watched = select(views.c.status_id.label("sid")).where(
        views.c.account_id == viewer_id, views.c.watched_ms >= WATCHED_MS, views.c.skipped.is_(False),
        views.c.last_seen_at > (max(start, reset_at) if reset_at else start))
    engaged = liked.union_all(boosted, watched).subquery()
    authors: Counter[int] = Counter()
    engaged_ids: set[int] = set()
    for post in await conn.execute(select(statuses.c.id, statuses.c.account_id, statuses.c.language)
                                   .join(engaged, engaged.c.sid == statuses.c.id)):
        engaged_ids.add(int(post.id))
        authors[int(post.account_id)] += 1
        if post.language:
            languages.add(post.language)
    tag_counts: Counter[str] = Counter()
    for row in await conn.execute(select(tags.c.name_lower).join(status_tags, status_tags.c.tag_id == tags.c.id)
                                  .join(engaged, engaged.c.sid == status_tags.c.status_id)):
        tag_counts[row.name_lower] += 1
    following = {int(x) for x in (await conn.execute(
        select(follows.c.target_account_id).where(follows.c.account_id == viewer_id))).scalars()}
    seen: set[int] = set()
    skipped: Counter[int] = Counter()
    if personalised:  # what the viewer saw and skipped is behaviour: the no-profiling feed ignores it
        for seen_row in await conn.execute(
                select(views.c.status_id, views.c.skipped, statuses.c.account_id)
                .join(statuses, statuses.c.id == views.c.status_id)
                .where(views.c.account_id == viewer_id,
                       views.c.last_seen_at > (max(start, reset_at) if reset_at else start))
                .order_by(views.c.last_seen_at.desc()).limit(RECENT_VIEWS)):
            seen.add(int(seen_row.status_id))
            if seen_row.skipped:
                skipped[int(seen_row.account_id)] += 1
    return Viewer(viewer_id, languages or {"en"}, following, authors, tag_counts,
                  await hidden_accounts(conn, viewer_id), personalised,
                  {int(v) for v in less["less_status"]}, {int(v) for v in less["less_author"]}, less["less_tag"],
                  reset_at, seen, skipped, sorted(engaged_ids, reverse=True), less["hide_label"])
