"""The live ranking model: weights learned from a region's own views and likes, logged before they serve.

``stoa recsys train`` builds one example per view a person reported in the last 60 days (the
features of that post for that person, as For You computes them, minus the contribution of the
engagement being predicted) labelled 1 when they liked it or watched it for at least 3 s, and
fits a logistic regression (L2, standardised features, numpy). The weights go to a JSON file under
``STOA_DATA_DIR/models/<region>/``; its SHA-256, its metrics and its weights are appended to the
region's transparency log (``ranking.model``) — and only then can it serve.

Serving (:func:`model_in_force`) reads the newest ``ranking.model`` entries of the region's log and
uses the newest one whose file still hashes to what was logged. A file that does not match is
refused (logged, counted) and the previous model serves; with none, the built-in weights do. So
what ranks a feed is always something on the public record.

Retraining also runs as a scheduled job in the worker every ``STOA_RECSYS_RETRAIN_HOURS`` (0: off),
logged the same way with the schedule as its reason.

Training is per region: views and likes are private and never leave their region; a model is an
aggregate of them, kept in the same region.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import structlog
from prometheus_client import Counter as MetricCounter
from sqlalchemy import select

from stoa.feeds import for_you
from stoa.store.database import Connection, Database
from stoa.store.schema import (
    consumer_cursors,
    favourites,
    status_tags,
    statuses,
    tags,
    transparency_entries,
    views,
)

log = structlog.get_logger(__name__)
ACTION = "ranking.model"
REFUSED = MetricCounter("stoa_ranking_model_refused_total", "Model files refused: content differs from the log")
MAX_EXAMPLES = 200_000
RETRAIN_CURSOR = "recsys_retrain"  # consumer_cursors row: when the last scheduled retraining ran (Unix time)


@dataclass(frozen=True)
class RankingModel:
    name: str
    weights: dict[str, float]
    sha256: str | None = None  # None: the built-in weights, on the log as part of ranking.config
    metrics: dict[str, Any] = field(default_factory=dict)


def built_in() -> RankingModel:
    return RankingModel(for_you.MODEL, dict(for_you.WEIGHTS))


class NotEnoughData(ValueError):
    pass


# --- training --------------------------------------------------------------------------------------

async def examples(conn: Connection, now: datetime | None = None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Feature matrix, labels and feature names from the views and likes in this store."""
    now = now or datetime.now(UTC)
    names = list(for_you.WEIGHTS)
    since = now - for_you.AFFINITY_WINDOW
    seen = (await conn.execute(select(views.c.account_id, views.c.status_id, views.c.watched_ms, views.c.skipped)
                               .where(views.c.last_seen_at > since).order_by(views.c.last_seen_at.desc())
                               .limit(MAX_EXAMPLES))).all()
    by_viewer: dict[int, list[Any]] = {}
    for row in seen:
        by_viewer.setdefault(int(row.account_id), []).append(row)
    rows_x: list[list[float]] = []
    labels: list[int] = []
    for viewer_id, items in by_viewer.items():
        viewer = await for_you._viewer(conn, viewer_id, True)
        ids = [int(r.status_id) for r in items]
        posts = {int(p.id): p for p in await conn.execute(select(statuses).where(statuses.c.id.in_(ids)))}
        liked = set((await conn.execute(select(favourites.c.status_id).where(
            favourites.c.account_id == viewer_id, favourites.c.status_id.in_(ids)))).scalars())
        post_tags: dict[int, list[str]] = {}
        for tag_row in await conn.execute(select(status_tags.c.status_id, tags.c.name_lower)
                                          .join(tags, tags.c.id == status_tags.c.tag_id)
                                          .where(status_tags.c.status_id.in_(ids))):
            post_tags.setdefault(int(tag_row.status_id), []).append(tag_row.name_lower)
        for item in items:
            post = posts.get(int(item.status_id))
            if post is None:
                continue
            watched = item.watched_ms >= for_you.WATCHED_MS and not item.skipped
            label = int(post.id) in liked or watched
            candidate = for_you.Candidate(post)
            candidate.tags = post_tags.get(int(post.id), [])
            author = int(post.account_id)
            # The engagement being predicted must not be among the features that predict it.
            own = int(int(post.id) in liked) + int(watched)
            authors, tag_counts = Counter(viewer.author_affinity), Counter(viewer.tag_affinity)
            viewer.author_affinity[author] = max(0, authors[author] - own)
            for tag in candidate.tags:
                viewer.tag_affinity[tag] = max(0, tag_counts[tag] - own)
            features = for_you.featurise(candidate, viewer, now)
            viewer.author_affinity, viewer.tag_affinity = authors, tag_counts
            rows_x.append([features.get(n, 0.0) for n in names])
            labels.append(int(label))
    return np.array(rows_x, dtype=np.float64).reshape(-1, len(names)), np.array(labels, dtype=np.float64), names


def fit(x: np.ndarray, y: np.ndarray, names: list[str], *, l2: float = 0.01, steps: int = 800,
        min_examples: int = 200, seed: int = 7) -> dict[str, Any]:
    """Logistic regression on standardised features; returns weights in the features' own units and metrics."""
    positives = int(y.sum())
    if len(y) < min_examples or positives == 0 or positives == len(y):
        raise NotEnoughData(f"not enough interactions to train: {len(y)} views, {positives} liked or watched "
                            f"(need {min_examples} views with both outcomes)")
    order = np.random.default_rng(seed).permutation(len(y))
    cut = max(1, int(len(y) * 0.8))
    train, test = order[:cut], order[cut:]
    mean, std = x[train].mean(axis=0), x[train].std(axis=0)
    varying = std > 0  # a feature constant in the data teaches nothing: its published weight stays
    std[~varying] = 1.0
    z = (x - mean) / std
    w, b = np.zeros(x.shape[1]), 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z[train] @ w + b)))
        grad = z[train].T @ (p - y[train]) / len(train) + l2 * w
        w -= 0.5 * grad
        b -= 0.5 * float((p - y[train]).mean())
    learned = {n: round(float(v), 6) for n, v, vary in zip(names, w / std, varying, strict=True) if vary}
    # Every feature's weight is written down, learned or published, so the file alone decides a ranking.
    weights = {n: learned.get(n, for_you.WEIGHTS.get(n, 0.0)) for n in names}
    return {"weights": weights, "learned": sorted(learned), "examples": len(y), "positives": positives,
            "auc_held_out": round(_auc(z[test] @ w, y[test]), 4) if len(test) else None}


def _auc(scores: np.ndarray, labels: np.ndarray) -> float:
    pos, neg = scores[labels == 1], scores[labels == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    ranks = np.argsort(np.argsort(np.concatenate([pos, neg]))) + 1
    return float((ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2) / (len(pos) * len(neg)))


def models_dir(data_dir: Path, region: str) -> Path:
    return data_dir / "models" / region


def save(data_dir: Path, region: str, trained: dict[str, Any]) -> tuple[Path, str]:
    """Write the model file; returns its path and the SHA-256 of its bytes."""
    document = {"model": "for-you-learned", "region": region, "trained_at": datetime.now(UTC).isoformat(),
                "features": list(trained["weights"]), **trained}
    data = json.dumps(document, sort_keys=True, indent=2).encode()
    digest = hashlib.sha256(data).hexdigest()
    target = models_dir(data_dir, region) / f"for-you-{digest[:16]}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target, digest


async def train_and_log(db: Database, region: str, data_dir: Path, reason: str, min_examples: int = 200) -> str:
    """Train on the region's own views, write the model, log it (only then can it serve); one line of outcome.

    Raises NotEnoughData when there is too little to learn from (the current model keeps serving).
    """
    from stoa.residency.transparency import Record, RegionKey, TransparencyLog, operator_actor

    async with db.read() as conn:
        x, y, names = await examples(conn)
    trained = fit(x, y, names, min_examples=min_examples)
    path, digest = save(data_dir, region, trained)
    transparency = TransparencyLog(db, region, RegionKey.for_region(data_dir, region))
    await transparency.record(Record(operator_actor(), ACTION, reason, None, {
        "sha256": digest, "file": path.name, "weights": trained["weights"], "examples": trained["examples"],
        "positives": trained["positives"], "auc_held_out": trained["auc_held_out"]}))
    return (f"model {digest[:16]} from {trained['examples']} views ({trained['positives']} liked or watched), "
            f"held-out AUC {trained['auc_held_out']}")


async def retrain_if_due(db: Database, region: str, data_dir: Path, every_hours: float,
                         min_examples: int = 200) -> str | None:
    """Retrain when the last scheduled run in this region is ``every_hours`` old. Several worker processes
    may ask at once: a conditional UPDATE of the ``recsys_retrain`` cursor (the time of the last run)
    lets exactly one of them through. Returns the outcome, or None when it was not due."""
    now = int(time.time())
    async with db.write() as conn:
        await conn.execute(db.insert_ignore(consumer_cursors).values(
            name=RETRAIN_CURSOR, position=now, updated_at=datetime.now(UTC)))  # the first period starts now
        claimed = await conn.execute(consumer_cursors.update().where(
            consumer_cursors.c.name == RETRAIN_CURSOR,
            consumer_cursors.c.position <= now - int(every_hours * 3600)).values(
            position=now, updated_at=datetime.now(UTC)))
    if not claimed.rowcount:
        return None
    try:
        outcome = await train_and_log(db, region, data_dir, f"scheduled retraining every {every_hours:g} h",
                                      min_examples)
        log.info("ranking_model_retrained", region=region, outcome=outcome)
    except NotEnoughData as exc:
        outcome = f"kept the current model: {exc}"
        log.info("ranking_model_kept", region=region, reason=str(exc))
    return outcome


async def retrain_forever(db: Database, region: str, data_dir: Path, every_hours: float) -> None:
    """The scheduled job (``STOA_RECSYS_RETRAIN_HOURS``): looks once a minute whether a retraining is due."""
    while True:
        await asyncio.sleep(60)
        try:
            await retrain_if_due(db, region, data_dir, every_hours)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("ranking_model_retraining_failed", region=region)


# --- serving ---------------------------------------------------------------------------------------

_loaded: dict[tuple[str, str], RankingModel] = {}


async def model_in_force(conn: Connection, data_dir: Path, region: str) -> RankingModel:
    """The newest logged model whose file matches its logged hash; else the built-in weights."""
    entries = (await conn.execute(select(transparency_entries.c.leaf_input).where(
        transparency_entries.c.action == ACTION).order_by(transparency_entries.c.position.desc())
        .limit(10))).scalars().all()
    for raw in entries:
        details = json.loads(bytes(raw))["details"]
        key = (region, details["sha256"])
        if key in _loaded:
            return _loaded[key]
        path = models_dir(data_dir, region) / details["file"]
        try:
            data = path.read_bytes()
        except OSError:
            data = b""
        if hashlib.sha256(data).hexdigest() != details["sha256"]:
            REFUSED.inc()
            log.warning("ranking_model_refused", region=region, file=details["file"],
                        reason="the file does not match the hash in the transparency log")
            continue
        document = json.loads(data)
        model = RankingModel(str(document["model"]), {k: float(v) for k, v in document["weights"].items()},
                             details["sha256"], {"examples": document.get("examples"),
                                                 "auc_held_out": document.get("auc_held_out")})
        _loaded[key] = model
        return model
    return built_in()
