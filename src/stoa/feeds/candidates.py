"""For You's candidate sources: every source names post ids, and one query reads what ranking needs
of all of them.

*in-network* (the newest entries of the viewer's home timeline), *co-engagement* (recent public
posts liked by the people who liked what the viewer liked lately), *similar* (public posts whose
text is nearest the viewer's liked and watched posts in an ANN index: ``stoa.feeds.similar``),
*trending* (public posts of the last two days with the most engagement, in the viewer's languages,
kept current by a consumer: ``stoa.feeds.trending``), *trending-region* (the same, counting only the
engagement of people homed in the viewer's region) and *exploration* (the newest public posts, so
fresh posts reach people before anyone engages). The feed without profiling keeps trending and
exploration. Only people one follows bring unlisted and followers-only posts; direct posts, boosts,
deleted posts and suspended accounts never enter, and the policy's exclusions (``policy.excluded``)
apply as the rows are read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, any_, func, literal, select
from sqlalchemy.dialects.postgresql import ARRAY

from stoa.feeds import policy, similar, trending
from stoa.feeds.signals import Viewer
from stoa.store.database import Connection
from stoa.store.ids import id_for_time
from stoa.store.schema import accounts, favourites, home_feed, status_tags, statuses, tags

CANDIDATES_PER_SOURCE = 120
CO_SEEDS = 20  # the viewer's newest likes that seed co-engagement
CO_PEERS = 200  # people who liked the same posts, at most

# What ranking reads of a post (a page's full statuses are loaded afterwards, for the page only).
RANKED_COLUMNS = (statuses.c.id, statuses.c.account_id, statuses.c.language, statuses.c.visibility,
                  statuses.c.favourites_count, statuses.c.reblogs_count, statuses.c.replies_count,
                  statuses.c.created_at, statuses.c.sensitive, statuses.c.spoiler_text, accounts.c.bot)


@dataclass
class Candidate:
    """A post some source named, with what ranking learns of it on the way."""

    row: Any
    sources: set[str] = field(default_factory=set)
    tags: list[str] = field(default_factory=list)
    score: float = 0.0
    co_likes: int = 0  # people who liked what the viewer liked and liked this too
    held_back: bool = False  # the spread moved this post to a later place than its score gave it
    similarity: float = 0.0  # to the viewer's taste, when the similarity source found it
    names: list[str] = field(default_factory=list)  # of the features in ``vector``
    vector: Any = None  # its row of ``features.feature_matrix``

    @property
    def features(self) -> dict[str, float]:
        return dict(zip(self.names, self.vector.tolist(), strict=True)) if self.vector is not None else {}


async def gather(conn: Connection, viewer: Viewer, index: similar.SimilarityIndex,
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
        co_liked = await co_engaged(conn, viewer)
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
        .where(among(conn, statuses.c.id, sources), statuses.c.deleted_at.is_(None),
               statuses.c.reblog_of_id.is_(None), statuses.c.visibility != "direct",
               accounts.c.suspended_at.is_(None)))
    unwanted_authors = viewer.hidden | {viewer.id}  # muted, blocked, blocking, and the viewer
    for row in rows:
        cid = int(row.id)
        if policy.excluded(cid, row, viewer, unwanted_authors):
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


def among(conn: Connection, column: Any, ids: Iterable[int]) -> Any:
    """``column IN ids``: on PostgreSQL one array parameter (``= ANY``) rather than hundreds of bound values."""
    if conn.dialect.name == "postgresql":
        return column == any_(literal(list(ids), ARRAY(BigInteger)))
    return column.in_(list(ids))


async def co_engaged(conn: Connection, viewer: Viewer) -> dict[int, int]:
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
        .where(among(conn, favourites.c.account_id, set(peers)), favourites.c.status_id > trending.window_start(),
               favourites.c.status_id.not_in(seeds))
        .group_by(favourites.c.status_id).order_by(liked_by.desc(), favourites.c.status_id.desc())
        .limit(CANDIDATES_PER_SOURCE))
    return {int(r.status_id): int(r.peers) for r in rows}
