"""For You: an open, explainable feed (docs/for-you.md publishes all of it).

The pipeline, each stage a module of its own: ``signals`` (what the feed reads about the viewer) →
``candidates`` (the sources) → ``features`` → a score (the learned engagement predictions of
``ranking_model`` weighted by ``HEAD_WEIGHTS``, or the published linear ``features.WEIGHTS`` until
a model is logged) → ``policy`` (exclusions and the spread) → page. This module runs it, explains
each item, and keeps the viewer's controls ("show less", labels, reset, views).

``personalised=False`` is the feed without profiling (EU DSA Art. 38): it keeps engagement,
freshness and language only, and the exploration and trending sources (by language and region:
both are what the person declared, not what they did).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import delete, func, select

from stoa.core.context import Context
from stoa.core.errors import NotFound, ValidationFailed
from stoa.feeds import candidates, features, policy, signals, similar, trending
from stoa.feeds.candidates import Candidate
from stoa.feeds.events import HistoryReset, LabelChosen, ShowLessChosen, ViewRecorded
from stoa.feeds.signals import Viewer
from stoa.social.views import StatusView, ordered
from stoa.social.visibility import get_visible
from stoa.store.database import Connection
from stoa.store.events import emit
from stoa.store.ids import new_id
from stoa.store.schema import accounts, feed_preferences, views

# The learned model predicts each engagement; a post's score is sum of weight * probability.
HEAD_WEIGHTS: dict[str, float] = {
    "like": 1.0, "repost": 2.0, "reply": 2.0, "follow": 4.0, "completion": 1.0, "not_interested": -6.0,
}
MAX_WATCH_MS = 3_600_000
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


SOURCE_WORDS = {"in-network": "from people you follow", "trending": "popular in your languages in the last two days",
                "trending-region": "popular with people in your region ({region}) in the last two days",
                "exploration": "new on Stoa", "co-engagement": "liked by people who like what you like",
                "similar": "reads like posts you liked or watched"}


async def explain(ctx: Context, viewer_id: int, status_id: int, personalised: bool = True) -> dict[str, Any]:
    """Why ``status_id`` is (or is not) in the viewer's For You feed: as data and as one sentence."""
    async with ctx.db.read() as conn:
        await get_visible(conn, viewer_id, status_id)  # a post the viewer may not see is a 404, as a missing one
    page, viewer, model = await ranked(ctx, viewer_id, personalised)
    position = next((i for i, c in enumerate(page) if int(c.row.id) == status_id), None)
    if position is None:
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
        "policy": [f"at most {policy.MAX_PER_AUTHOR} posts per author and {policy.MAX_PER_TOPIC} per hashtag "
                   f"per page of {policy.SPREAD_PAGE}" + (f", no language over {policy.MAX_LANGUAGE_SHARE:.0%} of it"
                                       if len(viewer.languages) > 1 else ""),
                   "muted and blocked accounts removed", "boosts ranked as their original post"]
        + (["moved down the feed to spread authors, hashtags and languages"] if candidate.held_back else [])
        + ([f"{len(viewer.seen)} posts you have already seen removed"] if viewer.seen else [])
        + ([f"posts {', '.join(policy.LABELS[label] for label in sorted(viewer.hidden_labels))} removed"]
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
            await get_visible(conn, viewer_id, int(value))  # hidden or missing: the same 404
            found = 1
        elif kind == "less_author":
            found = (await conn.execute(select(func.count()).select_from(accounts).where(
                accounts.c.id == value))).scalar_one()
        else:
            found = 1 if str(value) else 0
        if not found:
            raise NotFound()
        chosen_now = await conn.execute(ctx.db.insert_ignore(feed_preferences).values(
            id=new_id(), account_id=viewer_id, kind=kind, value=str(value), created_at=datetime.now(UTC)))
        if chosen_now.rowcount:
            await emit(conn, ShowLessChosen(account_id=viewer_id, status_id=status_id, target_account_id=account_id,
                                            tag=str(value) if kind == "less_tag" else None))


async def set_label(ctx: Context, viewer_id: int, label: str, hide: bool) -> None:
    """Hide posts carrying ``label`` from the viewer's For You feed, or show them again."""
    if label not in policy.LABELS:
        raise ValidationFailed(f"label must be one of {', '.join(policy.LABELS)}")
    async with ctx.db.write() as conn:
        if hide:
            changed = await conn.execute(ctx.db.insert_ignore(feed_preferences).values(
                id=new_id(), account_id=viewer_id, kind="hide_label", value=label, created_at=datetime.now(UTC)))
        else:
            changed = await conn.execute(delete(feed_preferences).where(feed_preferences.c.account_id == viewer_id,
                                                                        feed_preferences.c.kind == "hide_label",
                                                                        feed_preferences.c.value == label))
        if changed.rowcount:
            await emit(conn, LabelChosen(account_id=viewer_id, label=label, hidden=hide))


async def reset_history(ctx: Context, viewer_id: int) -> None:
    """Forget every "show less" and ignore engagements before now when ranking (label choices are settings,
    not history: they stay)."""
    now = datetime.now(UTC)
    async with ctx.db.write() as conn:
        await conn.execute(delete(feed_preferences).where(feed_preferences.c.account_id == viewer_id,
                                                          feed_preferences.c.kind != "hide_label"))
        await conn.execute(feed_preferences.insert().values(
            id=new_id(), account_id=viewer_id, kind="reset", value=now.isoformat(), created_at=now))
        await emit(conn, HistoryReset(account_id=viewer_id, reset_at=now.isoformat()))


async def stored_signals(ctx: Context, viewer_id: int) -> dict[str, Any]:
    """Everything the For You feed reads about the viewer, as it would use it now."""
    async with ctx.db.read() as conn:
        viewer = await signals.read(conn, viewer_id, True)
    return {
        "languages": sorted(viewer.languages),
        "following_count": len(viewer.following),
        "author_affinity": [{"account_id": str(a), "engagements": n} for a, n in viewer.author_affinity.most_common()],
        "tag_affinity": [{"tag": t, "engagements": n} for t, n in viewer.tag_affinity.most_common()],
        "show_less": {"statuses": sorted(str(s) for s in viewer.less_statuses),
                      "accounts": sorted(str(a) for a in viewer.less_authors), "tags": sorted(viewer.less_tags)},
        "history_reset_at": viewer.reset_at.isoformat() if viewer.reset_at else None,
        "labels": [{"label": label, "meaning": meaning, "action": "hide" if label in viewer.hidden_labels else "show"}
                   for label, meaning in policy.LABELS.items()],
        "seen_posts": len(viewer.seen),
        "skipped_authors": [{"account_id": str(a), "skips": n} for a, n in viewer.skipped_authors.most_common()],
        "affinity_window_days": signals.AFFINITY_WINDOW.days,
        "hidden_accounts": len(viewer.hidden),
    }


async def record_view(ctx: Context, viewer_id: int, status_id: int, watched_ms: int = 0,
                      skipped: bool = False) -> None:
    """A post was on the viewer's screen (for ``watched_ms``; ``skipped``: scrolled past at once).

    Read by the very next For You request: seen posts leave the feed, long watches count as
    interest in the author and hashtags, skips rank the author lower.
    """
    from sqlalchemy.dialects import postgresql, sqlite

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
        # One small event per recorded view, in the same transaction; consumers skip it by its type
        # without decoding it, and it never leaves the region.
        await emit(conn, ViewRecorded(account_id=viewer_id, status_id=target, watched_ms=watched_ms, skipped=skipped))
