"""`stoa recsys eval`: Stoa's ranker against baselines on a real dataset, with a temporal split.

Protocol: the oldest 80 % of interactions train, the newest 20 % test. A test item is relevant
when rated 4 or more. Users are evaluated when they have training history and at least one
relevant test item; items a user already interacted with in training are never recommended.
Metrics: Recall@20, NDCG@10, catalogue coverage of the top-20 lists, novelty (mean
-log2 popularity share) of the top-20 lists.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from stoa.feeds import metrics
from stoa.feeds.interactions import Interactions, per_user_temporal_split, temporal_split
from stoa.feeds.models import ALS, ItemKNN, Model, MostPopular, StoaHead, StoaRanker, _relevant

BATCH = 256


@dataclass
class Row:
    model: str
    recall_20: float
    ndcg_10: float
    coverage: float
    novelty: float
    fit_seconds: float
    notes: str = ""


def top_k(scores: np.ndarray, seen: sparse.csr_matrix, k: int) -> np.ndarray:
    """The k best items per row, never one the user has already seen."""
    scores = scores.copy()
    rows, cols = seen.nonzero()
    scores[rows, cols] = -np.inf
    part = np.argpartition(-scores, k, axis=1)[:, :k]
    order = np.take_along_axis(scores, part, axis=1).argsort(axis=1)[:, ::-1]
    return np.take_along_axis(part, order, axis=1)


def evaluate_scores(scores: np.ndarray, users: np.ndarray, train: sparse.csr_matrix,
                    relevant: dict[int, set[int]], k: int = 10) -> float:
    """Mean NDCG@k of precomputed scores (used to learn the ranker's blend)."""
    lists = top_k(scores, train[users], k)
    return float(np.mean([metrics.ndcg_at(list(lists[i]), relevant.get(int(u), set()), k)
                          for i, u in enumerate(users)]))


def evaluate(models: list[Model], data: Interactions, split: str = "global",
             progress: Callable[[str], None] = lambda _m: None) -> tuple[list[Row], dict[str, int]]:
    train, test = temporal_split(data) if split == "global" else per_user_temporal_split(data)
    train_matrix = train.matrix()
    relevant = _relevant(test)
    known = set(np.unique(train.users).tolist())
    users = np.array(sorted(u for u in relevant if u in known), dtype=np.int32)
    popularity = np.asarray(train_matrix.sum(axis=0)).ravel()
    rows = []
    for model in models:
        progress(f"fitting {model.name}")
        started = time.perf_counter()
        if isinstance(model, StoaRanker):
            model.split = split  # its own validation slice is cut the same way
        model.fit(train_matrix, train)
        fitted = time.perf_counter() - started
        progress(f"ranking with {model.name}")
        lists: list[list[int]] = []
        for start in range(0, len(users), BATCH):
            batch = users[start:start + BATCH]
            lists.extend(top_k(model.scores(batch), train_matrix[batch], 20).tolist())
        rows.append(Row(
            model.name,
            recall_20=float(np.mean([metrics.recall_at(lst, relevant[int(u)], 20) for lst, u in zip(lists, users,
                                                                                                  strict=True)])),
            ndcg_10=float(np.mean([metrics.ndcg_at(lst, relevant[int(u)], 10) for lst, u in zip(lists, users,
                                                                                               strict=True)])),
            coverage=metrics.coverage(lists, data.n_items),
            novelty=metrics.novelty(lists, popularity, data.n_users),
            fit_seconds=fitted,
            notes=f"learned blend {getattr(model, 'weights', '')}" if hasattr(model, "weights") else "",
        ))
    info = {"interactions": len(data.users), "users": data.n_users, "items": data.n_items,
            "train": len(train.users), "test": len(test.users), "evaluated_users": len(users)}
    return rows, info


def default_models() -> list[Model]:
    return [MostPopular(), ItemKNN(), ALS(), StoaRanker(), StoaHead()]


def plot(results: dict[str, list[Row]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(6 * len(results), 3.4), squeeze=False)
    for ax, (split, rows) in zip(axes[0], results.items(), strict=True):
        values = [r.ndcg_10 for r in rows]
        bars = ax.barh([r.model for r in rows], values,
                       color=["#2f6fde" if r.model.startswith("Stoa") else "#9aa5b1" for r in rows])
        ax.set_title(f"NDCG@10 — {split} temporal split")
        ax.invert_yaxis()
        ax.bar_label(bars, fmt="%.4f", padding=3)
        ax.set_xlim(0, max(values) * 1.35)
    fig.suptitle("MovieLens ml-latest-small: Stoa's ranker against baselines")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
