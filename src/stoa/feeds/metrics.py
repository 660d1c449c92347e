"""Ranking metrics over top-k lists: Recall@k, NDCG@k, catalogue coverage, novelty."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def recall_at(recommended: Sequence[int], relevant: set[int], k: int) -> float:
    if not relevant:
        return 0.0
    return len(set(recommended[:k]) & relevant) / min(len(relevant), k)


def ndcg_at(recommended: Sequence[int], relevant: set[int], k: int) -> float:
    dcg = sum(1.0 / math.log2(rank + 2) for rank, item in enumerate(recommended[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(rank + 2) for rank in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def coverage(lists: Sequence[Sequence[int]], n_items: int) -> float:
    """Share of the catalogue that appears in at least one list."""
    return len({item for items in lists for item in items}) / n_items


def novelty(lists: Sequence[Sequence[int]], popularity: np.ndarray, n_users: int) -> float:
    """Mean self-information, -log2(share of users who interacted), of recommended items."""
    values = [-math.log2(max(popularity[item], 1) / n_users) for items in lists for item in items]
    return float(np.mean(values)) if values else 0.0
