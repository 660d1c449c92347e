"""For You: an open, explainable feed (docs/for-you.md publishes all of it).

Pipeline, each step plain code: candidate sources → features → a score (the learned engagement
predictions of ``stoa.feeds.ranking_model`` weighted by ``HEAD_WEIGHTS``, or the published linear
``WEIGHTS`` until a model is logged) → policy → page.

- Sources: *in-network* (the newest entries of the viewer's home timeline), *co-engagement* (recent
  public posts liked by the people who liked what the viewer liked lately), *similar* (public posts
  whose text is nearest the viewer's liked and watched posts in an ANN index: ``stoa.feeds.similar``),
  *trending* (public posts of the last two days with the most engagement, in the viewer's languages,
  kept current by a consumer: ``stoa.feeds.trending``), *trending-region* (the same, counting only
  the engagement of people homed in the viewer's region) and
  *exploration* (the newest public posts, so fresh posts reach people before anyone engages).
- Features: engagement (log of favourites, boosts, replies), freshness (hours old), whether the
  viewer follows the author, the viewer's affinity with the author and with the post's hashtags
  (from the viewer's own favourites and boosts of the last 60 days, read at request time, so a like
  changes the very next page), and language match.
- ``personalised=False`` is the feed without profiling (EU DSA Art. 38): it keeps engagement,
  freshness and language only, and the exploration and trending sources (by language and region:
  both are what the person declared, not what they did).
- Policy: no post of an account the viewer mutes or blocks, none of the viewer's own, none the viewer
  has seen or asked less of, none carrying a label the viewer hides (``LABELS``), no boosts (the
  original is ranked instead); then each page of ``SPREAD_PAGE`` is spread: at most
  ``MAX_PER_AUTHOR`` posts per author and ``MAX_PER_TOPIC`` per hashtag, and for a viewer of several
  languages no language over ``MAX_LANGUAGE_SHARE`` of it while posts in the others wait. A post
  the spread holds back moves to a later page; nothing is dropped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import structlog
from sqlalchemy import BigInteger, and_, any_, delete, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

from stoa.feeds import similar, trending
from stoa.social.context import Context
from stoa.social.errors import NotFound, ValidationFailed
from stoa.social.timelines import hidden_accounts
from stoa.social.views import StatusView, ordered
from stoa.store.database import Connection
from stoa.store.ids import id_for_time, new_id
from stoa.store.schema import (
    accounts,
    favourites,
    feed_preferences,
    follows,
    home_feed,
    status_tags,
    statuses,
    tags,
    views,
)

WEIGHTS: dict[str, float] = {
    "engagement": 1.0,  # log1p(favourites + 2 boosts + replies)
    "freshness": -0.08,  # per hour old
    "following": 1.5,  # the viewer follows the author
    "author_affinity": 1.2,  # log1p(the viewer's favourites and boosts of this author, 60 days)
    "tag_affinity": 0.9,  # log1p(the viewer's favourites and boosts of posts with these hashtags)
    "language_match": 0.8,  # the post is in one of the viewer's languages
    "shown_less": -3.0,  # the viewer asked to see less of this author or hashtag
    "skipped_author": -1.0,  # log1p(the viewer's quick skips of this author's posts, 60 days)
    "co_engagement": 0.6,  # log1p(people who liked what the viewer liked and also liked this post)
    "similarity": 1.5,  # cosine of the post's text vector with the viewer's taste (similar source only)
}
# The learned model predicts each engagement; a post's score is sum of weight * probability.
HEAD_WEIGHTS: dict[str, float] = {
    "like": 1.0, "repost": 2.0, "reply": 2.0, "follow": 4.0, "completion": 1.0, "not_interested": -6.0,
}
# Labels a viewer can choose to hide from For You: what each means for a post.
LABELS: dict[str, str] = {
    "sensitive": "marked sensitive by its author (a content warning marks a post sensitive too)",
    "content_warning": "behind a content warning",
    "bot": "posted by an automated account",
}
WATCHED_MS = 3000  # watched at least this long: counts as interest in the author and the hashtags
MAX_WATCH_MS = 3_600_000
RECENT_VIEWS = 5000  # the newest views read per request
UNPERSONALISED = ("engagement", "freshness", "language_match")
MAX_PER_AUTHOR = 2  # per page of SPREAD_PAGE
MAX_PER_TOPIC = 3  # posts with the same hashtag, per page
MAX_LANGUAGE_SHARE = 0.75  # of a page, for a viewer who reads several languages
SPREAD_PAGE = 20
CANDIDATES_PER_SOURCE = 120
CO_SEEDS = 20  # the viewer's newest likes that seed co-engagement
CO_PEERS = 200  # people who liked the same posts, at most
AFFINITY_WINDOW = timedelta(days=60)
PAGE_LIMIT = 40
log = structlog.get_logger(__name__)
MODEL = "for-you-v0"


def ranking_config() -> dict[str, Any]:
    """Everything that decides a ranking, as data: what the transparency log records when it changes."""
    return {"model": MODEL, "weights": WEIGHTS, "head_weights": HEAD_WEIGHTS,
            "unpersonalised_features": list(UNPERSONALISED), "labels": list(LABELS),
            "max_per_author": MAX_PER_AUTHOR, "max_per_topic": MAX_PER_TOPIC,
            "max_language_share": MAX_LANGUAGE_SHARE, "spread_page": SPREAD_PAGE,
            "candidates_per_source": CANDIDATES_PER_SOURCE,
            "trending_window_hours": trending.WINDOW.total_seconds() / 3600,
            "affinity_window_days": AFFINITY_WINDOW.days, "page_limit": PAGE_LIMIT, "watched_ms": WATCHED_MS}


def ranking_config_hash() -> str:
    import hashlib

    import orjson

    return hashlib.sha256(orjson.dumps(ranking_config(), option=orjson.OPT_SORT_KEYS)).hexdigest()


# What ranking reads of a post (a page's full statuses are loaded afterwards, for the page only).
RANKED_COLUMNS = (statuses.c.id, statuses.c.account_id, statuses.c.language, statuses.c.visibility,
                  statuses.c.favourites_count, statuses.c.reblogs_count, statuses.c.replies_count,
                  statuses.c.created_at, statuses.c.sensitive, statuses.c.spoiler_text, accounts.c.bot)


@dataclass
class Candidate:
    row: Any
    sources: set[str] = field(default_factory=set)
    tags: list[str] = field(default_factory=list)
    score: float = 0.0
    co_likes: int = 0  # people who liked what the viewer liked and liked this too
    held_back: bool = False  # the spread moved this post to a later place than its score gave it
    similarity: float = 0.0  # to the viewer's taste, when the similarity source found it
    names: list[str] = field(default_factory=list)  # of the features in ``vector``
    vector: Any = None  # its row of ``feature_matrix``

    @property
    def features(self) -> dict[str, float]:
        return dict(zip(self.names, self.vector.tolist(), strict=True)) if self.vector is not None else {}


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


async def _viewer(conn: Connection, viewer_id: int, personalised: bool) -> Viewer:
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


async def _candidates(conn: Connection, viewer: Viewer, index: similar.SimilarityIndex,
                      regions: int = 1) -> dict[int, Candidate]:
    """Every source names post ids; one query then reads the ranking columns of all of them. (With one
    region, what its people like is what everyone likes: *trending-region* would repeat *trending*.)"""
    sources: dict[int, set[str]] = {}
    co_liked: dict[int, int] = {}
    near: dict[int, float] = {}

    def name(ids: Any, source: str) -> None:
        for status_id in ids:
            sources.setdefault(int(status_id), set()).add(source)

    if viewer.personalised:
        name((await conn.execute(select(home_feed.c.status_id).where(home_feed.c.account_id == viewer.id)
                                 .order_by(home_feed.c.status_id.desc()).limit(CANDIDATES_PER_SOURCE))).scalars(),
             "in-network")
        co_liked = await _co_engaged(conn, viewer)
        name(co_liked, "co-engagement")
        taste = await similar.taste(conn, viewer.engaged[:similar.SEEDS])
        near = index.search(taste, CANDIDATES_PER_SOURCE) if taste is not None else {}
        for seed in viewer.engaged:
            near.pop(seed, None)
        name(near, "similar")
    popular = await trending.tops(conn, viewer.languages, CANDIDATES_PER_SOURCE,
                                  ("engagement", "regional") if regions > 1 else ("engagement",))
    name(popular["engagement"], "trending")
    name(popular.get("regional", []), "trending-region")
    name((await conn.execute(select(statuses.c.id).where(statuses.c.visibility == "public")
                             .order_by(statuses.c.id.desc()).limit(CANDIDATES_PER_SOURCE // 3))).scalars(),
         "exploration")
    found: dict[int, Candidate] = {}
    if not sources:
        return found
    rows = await conn.execute(
        select(*RANKED_COLUMNS, _tag_names(conn)).join(accounts, accounts.c.id == statuses.c.account_id)
        .where(_among(conn, statuses.c.id, sources), statuses.c.deleted_at.is_(None),
               statuses.c.reblog_of_id.is_(None), statuses.c.visibility != "direct",
               accounts.c.suspended_at.is_(None)))
    unwanted_authors = viewer.hidden | {viewer.id}
    for row in rows:
        cid = int(row.id)
        # Policy: nothing muted, blocked, own, seen, asked less of, or carrying a label the viewer hides.
        if (row.account_id in unwanted_authors or cid in viewer.less_statuses or cid in viewer.seen
                or (viewer.hidden_labels and viewer.hidden_labels.intersection(labels_of(row)))):
            continue
        named = sources[cid]
        if row.visibility != "public":  # only people one follows bring unlisted and followers-only posts
            named = named & {"in-network"}
        if named:
            names = row.tag_names or []  # hashtags: affinities, "show less" and the spread of topics read them
            found[cid] = Candidate(row, set(named), co_likes=co_liked.get(cid, 0), similarity=near.get(cid, 0.0),
                                   tags=names.split(" ") if isinstance(names, str) else list(names))
    return found


def _tag_names(conn: Connection) -> Any:
    """A post's hashtags as one column of the candidates' query: an array on PostgreSQL, space-separated
    on SQLite (a hashtag has no spaces)."""
    names = (func.array_agg(tags.c.name_lower) if conn.dialect.name == "postgresql"
             else func.group_concat(tags.c.name_lower, " "))
    return (select(names).select_from(status_tags.join(tags, tags.c.id == status_tags.c.tag_id))
            .where(status_tags.c.status_id == statuses.c.id).scalar_subquery().label("tag_names"))


def _among(conn: Connection, column: Any, ids: Iterable[int]) -> Any:
    """``column IN ids``: on PostgreSQL one array parameter (``= ANY``) rather than hundreds of bound values."""
    if conn.dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(BigInteger)))
    return column.in_(list(ids))


def labels_of(row: Any) -> set[str]:
    """The labels (``LABELS``) a post carries."""
    return {label for label, present in (("sensitive", row.sensitive), ("content_warning", bool(row.spoiler_text)),
                                         ("bot", row.bot)) if present}


async def _co_engaged(conn: Connection, viewer: Viewer) -> dict[int, int]:
    """Out of network by co-engagement: recent public posts liked by the people who liked what the viewer
    liked lately, with how many of them did. Three index lookups, bounded by ``CO_SEEDS``/``CO_PEERS``."""
    since = id_for_time(viewer.reset_at) if viewer.reset_at else 0  # "reset my history" forgets the seeds too
    seeds = [int(x) for x in (await conn.execute(
        select(favourites.c.status_id).where(favourites.c.account_id == viewer.id, favourites.c.id > since)
        .order_by(favourites.c.id.desc()).limit(CO_SEEDS))).scalars()]
    if not seeds:
        return {}
    peers = [int(x) for x in (await conn.execute(
        select(favourites.c.account_id).where(favourites.c.status_id.in_(seeds),
                                              favourites.c.account_id != viewer.id)
        .order_by(favourites.c.id.desc()).limit(CO_PEERS))).scalars()]
    if not peers:
        return {}
    liked_by = func.count(func.distinct(favourites.c.account_id))
    rows = await conn.execute(
        select(favourites.c.status_id, liked_by.label("peers"))
        .where(_among(conn, favourites.c.account_id, set(peers)), favourites.c.status_id > trending.window_start(),
               favourites.c.status_id.not_in(seeds))
        .group_by(favourites.c.status_id).order_by(liked_by.desc(), favourites.c.status_id.desc())
        .limit(CANDIDATES_PER_SOURCE))
    return {int(r.status_id): int(r.peers) for r in rows}


PERSONAL = ("following", "author_affinity", "tag_affinity", "shown_less", "skipped_author", "co_engagement",
            "similarity")


def feature_matrix(candidates: list[Candidate], viewer: Viewer, now: datetime) -> tuple[list[str], np.ndarray]:
    """Every candidate's features for this viewer, one row each (the columns are ``WEIGHTS``' names:
    ``UNPERSONALISED`` first, then ``PERSONAL`` for the personalised feed). Built a column at a time."""
    names = list(UNPERSONALISED) + (list(PERSONAL) if viewer.personalised else [])
    rows = [c.row for c in candidates]
    x = np.zeros((len(rows), len(names)), dtype=np.float64)
    if not rows:
        return names, x
    x[:, 0] = np.log1p([r.favourites_count + 2 * r.reblogs_count + r.replies_count for r in rows])
    moment = now.timestamp()
    x[:, 1] = np.maximum(0.0, [(moment - (r.created_at if r.created_at.tzinfo else r.created_at.replace(
        tzinfo=UTC)).timestamp()) / 3600 for r in rows])
    x[:, 2] = [r.language in viewer.languages for r in rows]
    if viewer.personalised:
        authors = [int(r.account_id) for r in rows]
        x[:, 3] = [a in viewer.following for a in authors]
        x[:, 4] = np.log1p([viewer.author_affinity.get(a, 0) for a in authors])
        x[:, 5] = np.log1p([sum(viewer.tag_affinity.get(t, 0) for t in c.tags) for c in candidates])
        x[:, 6] = [a in viewer.less_authors or bool(viewer.less_tags.intersection(c.tags))
                   for a, c in zip(authors, candidates, strict=True)]
        x[:, 7] = np.log1p([viewer.skipped_authors.get(a, 0) for a in authors])
        x[:, 8] = np.log1p([c.co_likes for c in candidates])
        x[:, 9] = [c.similarity for c in candidates]
    return names, x


def featurise(candidate: Candidate, viewer: Viewer, now: datetime) -> dict[str, float]:
    """One candidate's features by name (the same numbers ``feature_matrix`` ranks with)."""
    names, x = feature_matrix([candidate], viewer, now)
    return dict(zip(names, x[0].tolist(), strict=True))


def spread(order: list[Candidate], viewer: Viewer, upto: int | None = None) -> list[Candidate]:
    """Policy over the ranked list, a page of ``SPREAD_PAGE`` at a time: the best post that keeps the page
    within ``MAX_PER_AUTHOR`` per author, ``MAX_PER_TOPIC`` per hashtag and, for a viewer of several
    languages, ``MAX_LANGUAGE_SHARE`` per language, comes next. When none does, the best remaining post
    does (a page is never short because of the spread). Held-back posts keep their order for later pages.

    With ``upto``, only the pages that cover the first ``upto`` positions are spread (each page depends
    only on the ones before it, so those positions are exactly the full spread's); the rest follows
    in score order."""
    language_cap = max(1, int(SPREAD_PAGE * MAX_LANGUAGE_SHARE)) if len(viewer.languages) > 1 else SPREAD_PAGE
    waiting = list(order)
    result: list[Candidate] = []
    while waiting:
        if upto is not None and len(result) >= upto:
            return result + waiting
        authors: Counter[int] = Counter()
        topics: Counter[str] = Counter()
        languages: Counter[str] = Counter()
        page: list[Candidate] = []
        held: list[Candidate] = []
        # One pass in score order: a post that does not fit now cannot fit later on this page (the
        # counts only grow), so this is the greedy "best post that fits" without rescanning.
        for position, candidate in enumerate(waiting):
            if len(page) == SPREAD_PAGE:
                held.extend(waiting[position:])
                break
            if (authors[int(candidate.row.account_id)] < MAX_PER_AUTHOR
                    and all(topics[t] < MAX_PER_TOPIC for t in candidate.tags)
                    and languages[candidate.row.language or ""] < language_cap):
                authors[int(candidate.row.account_id)] += 1
                topics.update(set(candidate.tags))
                languages[candidate.row.language or ""] += 1
                page.append(candidate)
            else:
                held.append(candidate)
        fill = SPREAD_PAGE - len(page)  # nothing left that fits: the best of the rest, so no page is short
        for candidate in held[:fill]:
            page.append(candidate)
        page.sort(key=lambda c: (-c.score, -int(c.row.id)))
        for candidate in held[fill:]:  # ranked above something on this page, yet moved to a later one
            candidate.held_back = candidate.held_back or (-candidate.score, -int(candidate.row.id)) < (
                -page[-1].score, -int(page[-1].row.id))
        result.extend(page)
        waiting = held[fill:]
    return result


async def ranked(ctx: Context, viewer_id: int, personalised: bool,
                 upto: int | None = None) -> tuple[list[Candidate], Viewer, Any]:
    """The viewer's candidates in feed order (exact for the first ``upto`` positions: see ``spread``)."""
    async with ctx.db.read() as conn:
        return await _ranked(ctx, conn, viewer_id, personalised, upto)


async def _ranked(ctx: Context, conn: Connection, viewer_id: int, personalised: bool,
                  upto: int | None) -> tuple[list[Candidate], Viewer, Any]:
    from stoa.feeds.ranking_model import built_in, model_in_force

    index = similar.index_for(ctx.db, ctx.settings.similar_index_posts,
                              similar.index_path(ctx.settings.data_dir, ctx.home))
    if personalised:
        await index.catch_up(ctx.db)
    # The learned model in force (on the transparency log); the feed without profiling keeps the
    # published built-in weights.
    model = await model_in_force(conn, ctx.settings.data_dir, ctx.home) if personalised else built_in()
    viewer = await _viewer(conn, viewer_id, personalised)
    found = await _candidates(conn, viewer, index, len(ctx.settings.region_names))
    candidates = list(found.values())
    names, x = feature_matrix(candidates, viewer, datetime.now(UTC))
    for candidate, vector, value in zip(candidates, x, model.score_matrix(x, names).tolist(), strict=True):
        candidate.names, candidate.vector, candidate.score = names, vector, value
    return spread(sorted(candidates, key=lambda c: (-c.score, -int(c.row.id))), viewer, upto), viewer, model


async def for_you(ctx: Context, viewer_id: int, offset: int, limit: int, personalised: bool = True,
                  after: int | None = None) -> list[StatusView]:
    """A page of the feed: ``limit`` posts from position ``offset``, or, with ``after``, from just after that
    post in the current ranking. A post no longer in the feed (reported seen, muted, deleted) cannot be
    found: the page then starts at the top, which holds only what is still unseen."""
    async with ctx.db.read() as conn:  # one connection for the ranking and the page
        page, _, _ = await _ranked(ctx, conn, viewer_id, personalised,
                                   upto=None if after is not None else offset + limit)
        if after is not None:
            offset = next((i + 1 for i, c in enumerate(page) if int(c.row.id) == after), 0)
        return await ordered(conn, viewer_id, [int(c.row.id) for c in page[offset:offset + limit]])


SOURCE_WORDS = {"in-network": "from people you follow", "trending": "popular in your languages in the last two days",
                "trending-region": "popular with people in your region ({region}) in the last two days",
                "exploration": "new on Stoa", "co-engagement": "liked by people who like what you like",
                "similar": "reads like posts you liked or watched"}


async def explain(ctx: Context, viewer_id: int, status_id: int, personalised: bool = True) -> dict[str, Any]:
    """Why ``status_id`` is (or is not) in the viewer's For You feed: as data and as one sentence."""
    page, viewer, model = await ranked(ctx, viewer_id, personalised)
    position = next((i for i, c in enumerate(page) if int(c.row.id) == status_id), None)
    if position is None:
        async with ctx.db.read() as conn:
            exists = (await conn.execute(select(func.count()).select_from(statuses).where(and_(
                statuses.c.id == status_id, statuses.c.deleted_at.is_(None))))).scalar_one()
        if not exists:
            raise NotFound()
        return {"status_id": str(status_id), "in_feed": False, "mode": "personalised" if personalised else "none",
                "policy": ["already seen" if status_id in viewer.seen else
                           "not among the candidates, or removed by policy (muted, blocked, your own, already "
                           "seen, asked to see less of, or carrying a label you hide)"],
                "sentence": "This post is not in your For You feed right now.",
                "model": {"name": model.name, "sha256": model.sha256}}
    candidate = page[position]
    weight = model.slopes(candidate.features)
    contributions = sorted(((name, value, weight[name], weight[name] * value)
                            for name, value in candidate.features.items()), key=lambda x: -abs(x[3]))
    reasons = []
    author = int(candidate.row.account_id)
    if viewer.author_affinity.get(author):
        reasons.append(f"you liked or boosted {viewer.author_affinity[author]} posts by this author")
    if candidate.co_likes:
        reasons.append(f"{candidate.co_likes} {'person' if candidate.co_likes == 1 else 'people'} who liked "
                       "posts you liked also liked this")
    liked_tags = [t for t in candidate.tags if viewer.tag_affinity.get(t)]
    if liked_tags:
        reasons.append("you liked posts about " + ", ".join(f"#{t}" for t in liked_tags[:3]))
    reasons.extend(SOURCE_WORDS[s].format(region=ctx.home) for s in sorted(candidate.sources)
                   if not (s == "co-engagement" and candidate.co_likes))  # said above, with the number
    if candidate.features.get("shown_less"):
        reasons.append("ranked lower because you asked to see less of this author or hashtag")
    if viewer.skipped_authors.get(author):
        reasons.append(f"ranked lower because you skipped {viewer.skipped_authors[author]} posts by this author")
    return {
        "status_id": str(status_id), "in_feed": True, "position": position,
        "mode": "personalised" if personalised else "none",
        "sources": sorted(candidate.sources),
        "features": [{"name": n, "value": round(v, 4), "weight": w, "contribution": round(c, 4)}
                     for n, v, w, c in contributions],
        "score": round(candidate.score, 4),
        "predictions": {head: round(p, 4) for head, p in model.predictions(candidate.features).items()},
        "model": {"name": model.name, "sha256": model.sha256},
        "policy": [f"at most {MAX_PER_AUTHOR} posts per author and {MAX_PER_TOPIC} per hashtag per page of "
                   f"{SPREAD_PAGE}" + (f", no language over {MAX_LANGUAGE_SHARE:.0%} of it"
                                       if len(viewer.languages) > 1 else ""),
                   "muted and blocked accounts removed", "boosts ranked as their original post"]
        + (["moved down the feed to spread authors, hashtags and languages"] if candidate.held_back else [])
        + ([f"{len(viewer.seen)} posts you have already seen removed"] if viewer.seen else [])
        + ([f"posts {', '.join(LABELS[label] for label in sorted(viewer.hidden_labels))} removed"]
           if viewer.hidden_labels else []),
        "sentence": "Because " + "; ".join(reasons) + ".",
    }


async def show_less(ctx: Context, viewer_id: int, *, status_id: int | None = None, account_id: int | None = None,
                    tag: str | None = None) -> None:
    """"Show less like this" for one post, one author or one hashtag (exactly one of them)."""
    chosen = [(k, v) for k, v in (("less_status", status_id), ("less_author", account_id),
                                  ("less_tag", tag.lower().lstrip("#") if tag else None)) if v is not None]
    if len(chosen) != 1:
        raise ValidationFailed("Give exactly one of status_id, account_id or tag")
    kind, value = chosen[0]
    async with ctx.db.write() as conn:
        if kind == "less_status":
            found = (await conn.execute(select(func.count()).select_from(statuses).where(
                statuses.c.id == value, statuses.c.deleted_at.is_(None)))).scalar_one()
        elif kind == "less_author":
            found = (await conn.execute(select(func.count()).select_from(accounts).where(
                accounts.c.id == value))).scalar_one()
        else:
            found = 1 if str(value) else 0
        if not found:
            raise NotFound()
        await conn.execute(ctx.db.insert_ignore(feed_preferences).values(
            id=new_id(), account_id=viewer_id, kind=kind, value=str(value), created_at=datetime.now(UTC)))


async def set_label(ctx: Context, viewer_id: int, label: str, hide: bool) -> None:
    """Hide posts carrying ``label`` from the viewer's For You feed, or show them again."""
    if label not in LABELS:
        raise ValidationFailed(f"label must be one of {', '.join(LABELS)}")
    async with ctx.db.write() as conn:
        if hide:
            await conn.execute(ctx.db.insert_ignore(feed_preferences).values(
                id=new_id(), account_id=viewer_id, kind="hide_label", value=label, created_at=datetime.now(UTC)))
        else:
            await conn.execute(delete(feed_preferences).where(feed_preferences.c.account_id == viewer_id,
                                                              feed_preferences.c.kind == "hide_label",
                                                              feed_preferences.c.value == label))


async def reset_history(ctx: Context, viewer_id: int) -> None:
    """Forget every "show less" and ignore engagements before now when ranking (label choices are settings,
    not history: they stay)."""
    async with ctx.db.write() as conn:
        await conn.execute(delete(feed_preferences).where(feed_preferences.c.account_id == viewer_id,
                                                          feed_preferences.c.kind != "hide_label"))
        await conn.execute(feed_preferences.insert().values(
            id=new_id(), account_id=viewer_id, kind="reset", value=datetime.now(UTC).isoformat(),
            created_at=datetime.now(UTC)))


async def stored_signals(ctx: Context, viewer_id: int) -> dict[str, Any]:
    """Everything the For You feed reads about the viewer, as it would use it now."""
    async with ctx.db.read() as conn:
        viewer = await _viewer(conn, viewer_id, True)
    return {
        "languages": sorted(viewer.languages),
        "following_count": len(viewer.following),
        "author_affinity": [{"account_id": str(a), "engagements": n} for a, n in viewer.author_affinity.most_common()],
        "tag_affinity": [{"tag": t, "engagements": n} for t, n in viewer.tag_affinity.most_common()],
        "show_less": {"statuses": sorted(str(s) for s in viewer.less_statuses),
                      "accounts": sorted(str(a) for a in viewer.less_authors), "tags": sorted(viewer.less_tags)},
        "history_reset_at": viewer.reset_at.isoformat() if viewer.reset_at else None,
        "labels": [{"label": label, "meaning": meaning, "action": "hide" if label in viewer.hidden_labels else "show"}
                   for label, meaning in LABELS.items()],
        "seen_posts": len(viewer.seen),
        "skipped_authors": [{"account_id": str(a), "skips": n} for a, n in viewer.skipped_authors.most_common()],
        "affinity_window_days": AFFINITY_WINDOW.days,
        "hidden_accounts": len(viewer.hidden),
    }


async def record_view(ctx: Context, viewer_id: int, status_id: int, watched_ms: int = 0,
                      skipped: bool = False) -> None:
    """A post was on the viewer's screen (for ``watched_ms``; ``skipped``: scrolled past at once).

    Read by the very next For You request: seen posts leave the feed, long watches count as
    interest in the author and hashtags, skips rank the author lower.
    """
    from sqlalchemy.dialects import postgresql, sqlite

    from stoa.social.statuses import get_visible

    if not 0 <= watched_ms <= MAX_WATCH_MS:
        raise ValidationFailed(f"watched_ms must be between 0 and {MAX_WATCH_MS}")
    now = datetime.now(UTC)
    async with ctx.db.write() as conn:
        row = await get_visible(conn, viewer_id, status_id)  # unknown, deleted or hidden: 404
        target = int(row.reblog_of_id or row.id)
        insert = (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(views).values(
            account_id=viewer_id, status_id=target, views=1, watched_ms=watched_ms, skipped=skipped,
            first_seen_at=now, last_seen_at=now)
        await conn.execute(insert.on_conflict_do_update(index_elements=["account_id", "status_id"], set_={
            "views": views.c.views + 1, "watched_ms": views.c.watched_ms + insert.excluded.watched_ms,
            "skipped": insert.excluded.skipped, "last_seen_at": insert.excluded.last_seen_at}))
