"""For You: an open, explainable feed (docs/for-you.md publishes all of it).

The pipeline, each stage a module of its own: ``signals`` (what the feed reads about the viewer) →
``candidates`` (the sources) → ``features`` → a score (the learned engagement predictions of
``ranking_model`` weighted by ``HEAD_WEIGHTS``, or the published linear ``features.WEIGHTS`` until
a model is logged) → ``policy`` (exclusions and the spread) → page. This module runs it;
``explanations`` says why each item is there, ``controls`` keeps the viewer's choices ("show less",
labels, reset) and ``viewing`` records what they watched.

``personalised=False`` is the feed without profiling (EU DSA Art. 38): it keeps engagement,
freshness and language only, and the exploration and trending sources (by language and region:
both are what the person declared, not what they did).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog

from stoa.core.context import Context
from stoa.feeds import candidates, features, policy, signals, similar, trending
from stoa.feeds.candidates import Candidate
from stoa.feeds.signals import Viewer
from stoa.social.views import StatusView, ordered
from stoa.store.database import Connection

# The learned model predicts each engagement; a post's score is sum of weight * probability.
HEAD_WEIGHTS: dict[str, float] = {
    "like": 1.0, "repost": 2.0, "reply": 2.0, "follow": 4.0, "completion": 1.0, "not_interested": -6.0,
}
PAGE_LIMIT = 40
log = structlog.get_logger(__name__)
MODEL = "for-you-v0"


def ranking_config() -> dict[str, Any]:
    """Everything that decides a ranking, as data: what the transparency log records when it changes."""
    return {"model": MODEL, "weights": features.WEIGHTS, "head_weights": HEAD_WEIGHTS,
            "unpersonalised_features": list(features.UNPERSONALISED), "labels": list(policy.LABELS),
            "max_per_author": policy.MAX_PER_AUTHOR, "max_per_topic": policy.MAX_PER_TOPIC,
            "max_language_share": policy.MAX_LANGUAGE_SHARE, "spread_page": policy.SPREAD_PAGE,
            "candidates_per_source": candidates.CANDIDATES_PER_SOURCE,
            "trending_window_hours": trending.WINDOW.total_seconds() / 3600,
            "affinity_window_days": signals.AFFINITY_WINDOW.days, "page_limit": PAGE_LIMIT,
            "watched_ms": signals.WATCHED_MS}


def ranking_config_hash() -> str:
    import hashlib

    import orjson

    return hashlib.sha256(orjson.dumps(ranking_config(), option=orjson.OPT_SORT_KEYS)).hexdigest()


async def ranked(ctx: Context, viewer_id: int, personalised: bool,
                 upto: int | None = None) -> tuple[list[Candidate], Viewer, Any]:
    """The viewer's candidates in feed order (exact for the first ``upto`` positions: see ``policy.spread``)."""
    async with ctx.db.read() as conn:
        return await _ranked(ctx, conn, viewer_id, personalised, upto)


async def _ranked(ctx: Context, conn: Connection, viewer_id: int, personalised: bool,
                  upto: int | None) -> tuple[list[Candidate], Viewer, Any]:
    from stoa.feeds.ranking_model import built_in, model_in_force

    index = similar.index_for(ctx.db, ctx.settings, ctx.home)
    if personalised:
        await index.catch_up(ctx.db)
    # The learned model in force (on the transparency log); the feed without profiling keeps the
    # published built-in weights.
    model = await model_in_force(conn, ctx.settings.data_dir, ctx.home) if personalised else built_in()
    viewer = await signals.read(conn, viewer_id, personalised)
    found = await candidates.gather(conn, viewer, index, len(ctx.settings.region_names))
    pool = list(found.values())
    names, x = features.feature_matrix(pool, viewer, datetime.now(UTC))
    for candidate, vector, value in zip(pool, x, model.score_matrix(x, names).tolist(), strict=True):
        candidate.names, candidate.vector, candidate.score = names, vector, value
    return policy.spread(sorted(pool, key=lambda c: (-c.score, -int(c.row.id))), viewer, upto), viewer, model


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
