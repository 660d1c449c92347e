"""Training the ranking model (``stoa recsys train``, and the scheduled retraining job): the examples,
the fit, the model file and its entry on the transparency log; ``ranking_model`` serves it.

``stoa recsys train`` builds one example per view a person reported in the last 60 days: the features
of that post for that person, as For You computed them, minus what the engagement itself added
(a like of the post is not evidence of affinity for its author when predicting that like; a follow
that came after the view does not count as following). A head whose outcome is too rare to learn
(fewer than ``MIN_HEAD_OUTCOMES`` of either outcome) is left out and said so. A feature the data
never varied (nobody used "show less", no candidate came from the similarity index) teaches nothing;
its published weight is kept and added to the score as it is, so the user's controls still act.

Retraining also runs as a periodic job (stoa.store.jobs) every ``STOA_RECSYS_RETRAIN_HOURS`` (0: off),
once per period in each region however many workers run, logged the same way with the schedule as its
reason.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import structlog
from sqlalchemy import select

from stoa.feeds import candidates, features, for_you, signals
from stoa.feeds.ranking_model import ACTION, models_dir
from stoa.store.database import Connection, Database
from stoa.store.jobs import Job, JobKind, Periodic, Registry
from stoa.store.schema import (
    favourites,
    follows,
    media_attachments,
    status_tags,
    statuses,
    tags,
    views,
)

log = structlog.get_logger(__name__)
MAX_EXAMPLES = 200_000
RETRAIN_SCHEDULE = "recsys.retrain"  # the periodic job (kind and schedule) of STOA_RECSYS_RETRAIN_HOURS


class NotEnoughData(ValueError):
    pass


HEADS = ("like", "repost", "reply", "follow", "completion", "not_interested")
MIN_HEAD_OUTCOMES = 5  # a head is learned only with at least this many examples of each outcome
COMPLETED = 0.9  # of a video's length, watched: completion


@dataclass
class Examples:
    x: np.ndarray  # one row per view, one column per feature
    labels: dict[str, np.ndarray]  # per head: 1 where the engagement happened
    names: list[str]


async def examples(conn: Connection, now: datetime | None = None) -> Examples:
    """Features and per-engagement outcomes of the views reported in this store in the last 60 days."""
    now = now or datetime.now(UTC)
    names = list(features.WEIGHTS)
    rows_x: list[list[float]] = []
    labels: dict[str, list[int]] = {h: [] for h in HEADS}
    for viewer_id, items in (await _recent_views(conn, now)).items():
        viewer = await signals.read(conn, viewer_id, True)
        ids = [int(r.status_id) for r in items]
        posts = {int(p.id): p for p in await conn.execute(select(statuses).where(statuses.c.id.in_(ids)))}
        outcomes = await _outcomes(conn, viewer_id, ids, {int(p.account_id) for p in posts.values()})
        post_tags = await _tags_of(conn, ids)
        for item in items:
            post = posts.get(int(item.status_id))
            if post is None:
                continue
            label, watched = _label(item, post, outcomes, viewer)
            candidate = candidates.Candidate(post)
            candidate.tags = post_tags.get(int(post.id), [])
            values = _features_before(candidate, viewer, item, label, watched, now)
            rows_x.append([values.get(n, 0.0) for n in names])
            for head in HEADS:
                labels[head].append(int(label[head]))
    return Examples(np.array(rows_x, dtype=np.float64).reshape(-1, len(names)),
                    {h: np.array(v, dtype=np.float64) for h, v in labels.items()}, names)


async def _recent_views(conn: Connection, now: datetime) -> dict[int, list[Any]]:
    """The newest MAX_EXAMPLES views of the affinity window, by viewer."""
    seen = (await conn.execute(select(views.c.account_id, views.c.status_id, views.c.watched_ms, views.c.skipped,
                                      views.c.first_seen_at)
                               .where(views.c.last_seen_at > now - signals.AFFINITY_WINDOW)
                               .order_by(views.c.last_seen_at.desc()).limit(MAX_EXAMPLES))).all()
    by_viewer: dict[int, list[Any]] = {}
    for row in seen:
        by_viewer.setdefault(int(row.account_id), []).append(row)
    return by_viewer


async def _tags_of(conn: Connection, ids: list[int]) -> dict[int, list[str]]:
    post_tags: dict[int, list[str]] = {}
    for tag_row in await conn.execute(select(status_tags.c.status_id, tags.c.name_lower)
                                      .join(tags, tags.c.id == status_tags.c.tag_id)
                                      .where(status_tags.c.status_id.in_(ids))):
        post_tags.setdefault(int(tag_row.status_id), []).append(tag_row.name_lower)
    return post_tags


def _label(item: Any, post: Any, outcomes: _Outcomes, viewer: signals.Viewer) -> tuple[dict[str, bool], bool]:
    """What the viewer did after this view, per head; and whether the view counts as watched."""
    sid, author = int(post.id), int(post.account_id)
    length = outcomes.video_seconds.get(sid)
    watched = not item.skipped and item.watched_ms >= signals.WATCHED_MS
    followed_at = outcomes.followed_at.get(author)
    label = {
        "like": sid in outcomes.liked, "repost": sid in outcomes.reposted, "reply": sid in outcomes.replied,
        "follow": followed_at is not None and followed_at >= _aware(item.first_seen_at),
        "completion": (not item.skipped and item.watched_ms >= COMPLETED * length * 1000) if length else watched,
        "not_interested": bool(item.skipped) or sid in viewer.less_statuses,
    }
    return label, watched


def _features_before(candidate: candidates.Candidate, viewer: signals.Viewer, item: Any, label: dict[str, bool],
                     watched: bool, now: datetime) -> dict[str, float]:
    """The candidate's features as the viewer's signals were before this view's own engagement: what the
    engagement being predicted added to the signals must not predict it. The signals are restored after."""
    author = int(candidate.row.account_id)
    own = int(label["like"]) + int(label["repost"]) + int(watched)
    authors, tag_counts, skips = (Counter(viewer.author_affinity), Counter(viewer.tag_affinity),
                                  Counter(viewer.skipped_authors))
    following = set(viewer.following)
    viewer.author_affinity[author] = max(0, authors[author] - own)
    for tag in candidate.tags:
        viewer.tag_affinity[tag] = max(0, tag_counts[tag] - own)
    viewer.skipped_authors[author] = max(0, skips[author] - int(bool(item.skipped)))
    if label["follow"]:
        viewer.following.discard(author)  # the feed saw someone they did not follow yet
    values = features.featurise(candidate, viewer, now)
    viewer.author_affinity, viewer.tag_affinity, viewer.skipped_authors = authors, tag_counts, skips
    viewer.following = following
    return values


@dataclass
class _Outcomes:
    liked: set[int]
    reposted: set[int]
    replied: set[int]
    followed_at: dict[int, datetime]  # author → when the viewer followed them
    video_seconds: dict[int, float]  # post → the length of its video


async def _outcomes(conn: Connection, viewer_id: int, ids: list[int], authors: set[int]) -> _Outcomes:
    liked = set((await conn.execute(select(favourites.c.status_id).where(
        favourites.c.account_id == viewer_id, favourites.c.status_id.in_(ids)))).scalars())
    mine = statuses.alias("mine")
    reposted = set((await conn.execute(select(mine.c.reblog_of_id).where(
        mine.c.account_id == viewer_id, mine.c.reblog_of_id.in_(ids), mine.c.deleted_at.is_(None)))).scalars())
    replied = set((await conn.execute(select(mine.c.in_reply_to_id).where(
        mine.c.account_id == viewer_id, mine.c.in_reply_to_id.in_(ids), mine.c.deleted_at.is_(None)))).scalars())
    followed = {int(r.target_account_id): _aware(r.created_at) for r in await conn.execute(
        select(follows.c.target_account_id, follows.c.created_at).where(
            follows.c.account_id == viewer_id, follows.c.target_account_id.in_(authors)))}
    lengths: dict[int, float] = {}
    for media in await conn.execute(select(media_attachments.c.status_id, media_attachments.c.meta).where(
            media_attachments.c.status_id.in_(ids), media_attachments.c.type == "video")):
        seconds = (media.meta or {}).get("duration")
        if isinstance(seconds, int | float) and seconds > 0:
            lengths[int(media.status_id)] = max(lengths.get(int(media.status_id), 0.0), float(seconds))
    return _Outcomes({int(x) for x in liked}, {int(x) for x in reposted}, {int(x) for x in replied}, followed,
                     lengths)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def fit(x: np.ndarray, y: np.ndarray, names: list[str], *, l2: float = 0.01, steps: int = 800,
        min_outcomes: int = MIN_HEAD_OUTCOMES, seed: int = 7) -> dict[str, Any]:
    """One head: logistic regression on standardised features; weights and bias in the features' own units,
    the features it could learn from, and the held-out AUC of a 20 % split."""
    positives = int(y.sum())
    if min(positives, len(y) - positives) < min_outcomes:
        raise NotEnoughData(f"{positives} of {len(y)} (need {min_outcomes} of each outcome)")
    order = np.random.default_rng(seed).permutation(len(y))
    cut = max(1, int(len(y) * 0.8))
    train, test = order[:cut], order[cut:]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    varying = std > 0  # a feature constant in the data teaches nothing
    std[~varying] = 1.0
    z = (x - mean) / std
    z[:, ~varying] = 0.0
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z[train] @ w + b)))
        grad = z[train].T @ (p - y[train]) / len(train) + l2 * w
        w -= 0.5 * grad
        b -= 0.5 * float((p - y[train]).mean())
    units = np.where(varying, w / std, 0.0)
    return {"bias": round(float(b - units @ mean), 6),
            "weights": {n: round(float(v), 6) for n, v, vary in zip(names, units, varying, strict=True) if vary},
            "positives": positives, "auc_held_out": round(_auc(z[test] @ w, y[test]), 4) if len(test) else None}


def fit_heads(data: Examples, *, min_examples: int = 200) -> dict[str, Any]:
    """Every head the data can teach; the published weight of every feature none of them could learn from."""
    views_count = len(data.x)
    if views_count < min_examples:
        raise NotEnoughData(f"not enough interactions to train: {views_count} views (need {min_examples})")
    heads: dict[str, Any] = {}
    left_out: dict[str, str] = {}
    for head in HEADS:
        try:
            heads[head] = fit(data.x, data.labels[head], data.names)
        except NotEnoughData as exc:
            left_out[head] = str(exc)
    if not heads:
        raise NotEnoughData(f"not enough interactions to train: {views_count} views, and no engagement with "
                            f"both outcomes often enough ({'; '.join(f'{h} {why}' for h, why in left_out.items())})")
    taught = {n for head in heads.values() for n in head["weights"]}
    return {"heads": heads, "head_weights": {h: for_you.HEAD_WEIGHTS[h] for h in heads}, "left_out": left_out,
            "fixed": {n: features.WEIGHTS[n] for n in data.names if n not in taught}, "examples": views_count}


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    ranks = np.argsort(np.argsort(np.concatenate([pos, neg]))) + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def save(data_dir: Path, region: str, trained: dict[str, Any]) -> tuple[Path, str]:
    """Write the model file; returns its path and the SHA-256 of its bytes."""
    document = {"model": "for-you-heads", "region": region, "trained_at": datetime.now(UTC).isoformat(), **trained}
    data = json.dumps(document, sort_keys=True, indent=2).encode()
    digest = hashlib.sha256(data).hexdigest()
    target = models_dir(data_dir, region) / f"for-you-{digest[:16]}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target, digest


def _summary(trained: dict[str, Any]) -> str:
    heads = ", ".join(f"{h} {v['positives']} (AUC {v['auc_held_out']})" for h, v in trained["heads"].items())
    left = f"; not learned: {', '.join(trained['left_out'])}" if trained["left_out"] else ""
    return f"from {trained['examples']} views — {heads}{left}"


async def train_and_log(db: Database, region: str, data_dir: Path, reason: str, min_examples: int = 200) -> str:
    """Train on the region's own views, write the model, log it (only then can it serve); one line of outcome.

    Raises NotEnoughData when there is too little to learn from (the current model keeps serving).
    """
    from stoa.residency.transparency import Record, RegionKey, TransparencyLog, operator_actor

    async with db.read() as conn:
        data = await examples(conn)
    trained = fit_heads(data, min_examples=min_examples)
    path, digest = save(data_dir, region, trained)
    transparency = TransparencyLog(db, region, RegionKey.for_region(data_dir, region))
    await transparency.record(Record(operator_actor(), ACTION, reason, None, {
        "sha256": digest, "file": path.name, "heads": trained["heads"], "head_weights": trained["head_weights"],
        "fixed": trained["fixed"], "left_out": sorted(trained["left_out"]), "examples": trained["examples"]}))
    return f"model {digest[:16]} {_summary(trained)}"


def register(registry: Registry, db: Database, region: str, data_dir: Path) -> None:
    """Scheduled retraining as a job kind of one region. Not enough data is an outcome, not a failure."""

    async def retrain(job: Job) -> None:
        await scheduled_retraining(db, region, data_dir, float(job.payload["every_hours"]))

    registry.register(JobKind(RETRAIN_SCHEDULE, retrain, max_attempts=3, backoff_base=60.0,
                              lease_seconds=3600.0))  # training blocks the event loop (and the renewals) a while


def schedule(every_hours: float) -> Periodic:
    """Once every ``every_hours`` per region; the first period starts when a worker first sees the schedule."""
    return Periodic(RETRAIN_SCHEDULE, RETRAIN_SCHEDULE, timedelta(hours=every_hours), {"every_hours": every_hours},
                    first_run_now=False)


async def scheduled_retraining(db: Database, region: str, data_dir: Path, every_hours: float,
                               min_examples: int = 200) -> str:
    """Retrain and log the model with the schedule as its reason; the outcome in one line."""
    try:
        outcome = await train_and_log(db, region, data_dir, f"scheduled retraining every {every_hours:g} h",
                                      min_examples)
        log.info("ranking_model_retrained", region=region, outcome=outcome)
    except NotEnoughData as exc:
        outcome = f"kept the current model: {exc}"
        log.info("ranking_model_kept", region=region, reason=str(exc))
    return outcome
