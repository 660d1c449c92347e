"""The live ranking model: engagement predictions learned from a region's own behaviour, logged before they serve.

For You ranks by the expected value of showing a post: the model predicts, for each post and viewer,
the probability of each engagement — ``like``, ``repost``, ``reply``, ``follow`` (the author, after
seeing the post), ``completion`` (watched to the end: 90 % of a video, or 3 s of dwell on a post
without one) and ``not_interested`` (skipped, or "show less" on that post) — and the score is
sum of head weight * probability, with the published head weights in ``for_you.HEAD_WEIGHTS``
(``not_interested`` counts against). Each head is a logistic regression (L2, standardised
features, numpy) over the features For You computes (``features.featurise``).

The model goes to a JSON file under ``STOA_DATA_DIR/models/<region>/``; its SHA-256, heads and
metrics are appended to the region's transparency log (``ranking.model``) — and only then can it
serve. Serving (:func:`model_in_force`) uses the newest logged model whose file still hashes to
what was logged; a file that does not match is refused (logged, counted) and the previous model
serves; with none, the built-in linear weights (``features.WEIGHTS``) do. What ranks a feed is always
something on the public record.

Training is per region: views and likes are private and never leave their region; a model is an
aggregate of them, kept in the same region.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import structlog
from prometheus_client import Counter as MetricCounter
from sqlalchemy import select

from stoa.feeds import features, for_you
from stoa.store.database import Connection
from stoa.store.schema import (
    transparency_entries,
)

log = structlog.get_logger(__name__)
ACTION = "ranking.model"
REFUSED = MetricCounter("stoa_ranking_model_refused_total", "Model files refused: content differs from the log")


@dataclass(frozen=True)
class Head:
    """One engagement's logistic regression, in the features' own units: p = sigmoid(bias + sum of weight * value)."""
    bias: float
    weights: dict[str, float]


@dataclass(frozen=True)
class RankingModel:
    name: str
    weights: dict[str, float]  # built-in: the linear weights; learned: the fixed weights of untaught features
    sha256: str | None = None  # None: the built-in weights, on the log as part of ranking.config
    metrics: dict[str, Any] = field(default_factory=dict)
    heads: dict[str, Head] = field(default_factory=dict)  # learned: one per engagement it could learn
    head_weights: dict[str, float] = field(default_factory=dict)

    def _fixed(self, name: str) -> float:
        """A feature's direct weight: its linear weight, or with heads only the kept weight of an untaught one."""
        return self.weights.get(name, 0.0 if self.heads else features.WEIGHTS.get(name, 0.0))

    def _logits(self, x: np.ndarray, names: list[str]) -> np.ndarray:
        w = np.array([[head.weights.get(n, 0.0) for head in self.heads.values()] for n in names]).reshape(
            len(names), len(self.heads))
        return x @ w + np.array([head.bias for head in self.heads.values()])

    def score_many(self, rows: list[dict[str, float]]) -> list[float]:
        """The score of each candidate's features, given by name."""
        if not rows:
            return []
        names = list(rows[0])
        return self.score_matrix(np.array([[row.get(n, 0.0) for n in names] for row in rows], dtype=np.float64),
                                 names).tolist()

    def score_matrix(self, x: np.ndarray, names: list[str]) -> np.ndarray:
        """The scores of a matrix of features, a row per candidate and a column per name (one product for
        all of a request's candidates)."""
        total = x @ np.array([self._fixed(n) for n in names])
        if self.heads:
            p = 1 / (1 + np.exp(-self._logits(x, names)))
            total = total + p @ np.array([self.head_weights.get(h, 0.0) for h in self.heads])
        return np.asarray(total, dtype=np.float64)

    def predictions(self, features: dict[str, float]) -> dict[str, float]:
        """Each learned head's probability for these features (empty for the built-in linear weights)."""
        if not self.heads:
            return {}
        names = list(features)
        logits = self._logits(np.array([[features[n] for n in names]]), names)[0]
        return {h: float(1 / (1 + np.exp(-z))) for h, z in zip(self.heads, logits, strict=True)}

    def slopes(self, features: dict[str, float]) -> dict[str, float]:
        """Each feature's weight in the score at this point: the linear weight itself, or for the learned
        heads the score's slope, the sum of head weight * p(1 - p) * the head's weight, plus any fixed weight (a local
        linearisation, so that "value * weight" says how much a feature moved this post)."""
        fixed = {n: self._fixed(n) for n in features}
        for head, p in self.predictions(features).items():
            for n in features:
                fixed[n] += self.head_weights.get(head, 0.0) * p * (1 - p) * self.heads[head].weights.get(n, 0.0)
        return fixed


def built_in() -> RankingModel:
    return RankingModel(for_you.MODEL, dict(features.WEIGHTS))


def models_dir(data_dir: Path, region: str) -> Path:
    return data_dir / "models" / region


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
        model = _from_document(json.loads(data), details["sha256"])
        _loaded[key] = model
        return model
    return built_in()


def _from_document(document: dict[str, Any], sha256: str) -> RankingModel:
    """A model file as written by :func:`save` (or, from before the heads, one set of linear weights)."""
    if "heads" not in document:
        return RankingModel(str(document["model"]), {k: float(v) for k, v in document["weights"].items()}, sha256,
                            {"examples": document.get("examples")})
    heads = {h: Head(float(v["bias"]), {k: float(w) for k, w in v["weights"].items()})
             for h, v in document["heads"].items()}
    return RankingModel(str(document["model"]), {k: float(v) for k, v in document["fixed"].items()}, sha256,
                        {"examples": document.get("examples"),
                         "auc_held_out": {h: v.get("auc_held_out") for h, v in document["heads"].items()}},
                        heads, {h: float(w) for h, w in document["head_weights"].items()})
