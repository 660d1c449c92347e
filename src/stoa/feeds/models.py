"""Recommendation models for the offline evaluation: three baselines and Stoa's ranker.

Every model is fitted on a users x items interaction matrix (plus interaction times) and scores
every item for a batch of users; the evaluation masks what each user already saw.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from stoa.feeds.interactions import Interactions


class Model:
    name = "model"

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> Model:
        raise NotImplementedError

    def scores(self, users: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class MostPopular(Model):
    name = "most-popular"

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> MostPopular:
        self.popularity = np.asarray(train.sum(axis=0)).ravel().astype(np.float32)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self.popularity, (len(users), 1))


class ItemKNN(Model):
    """Item-based collaborative filtering: cosine similarity, the k nearest neighbours of each item."""

    name = "item-kNN"

    def __init__(self, neighbours: int = 100) -> None:
        self.neighbours = neighbours

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> ItemKNN:
        norms = np.sqrt(np.asarray(train.multiply(train).sum(axis=0)).ravel()) + 1e-9
        normalised = train @ sparse.diags(1.0 / norms)
        similarity = (normalised.T @ normalised).toarray().astype(np.float32)
        np.fill_diagonal(similarity, 0.0)
        if self.neighbours < similarity.shape[0]:
            cut = np.argpartition(-similarity, self.neighbours, axis=1)[:, self.neighbours:]
            np.put_along_axis(similarity, cut, 0.0, axis=1)
        self.similarity = similarity
        self.train = train
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.train[users] @ self.similarity)


class ALS(Model):
    """Alternating least squares for implicit feedback, from the `implicit` library."""

    name = "ALS (implicit)"

    def __init__(self, factors: int = 64, regularization: float = 0.05, iterations: int = 20, alpha: float = 10.0,
                 seed: int = 7) -> None:
        self.params = {"factors": factors, "regularization": regularization, "iterations": iterations,
                       "alpha": alpha, "random_state": seed}

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> ALS:
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        model = AlternatingLeastSquares(**self.params, calculate_training_loss=False)
        with threadpool_limits(1, "blas"), warnings.catch_warnings():  # implicit parallelises itself
            warnings.simplefilter("ignore", RuntimeWarning)  # its BLAS-threads warning: limited just above
            model.fit(train, show_progress=False)
        self.user_factors = np.asarray(model.user_factors)
        self.item_factors = np.asarray(model.item_factors)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return self.user_factors[users] @ self.item_factors.T


class EASE(Model):
    """Co-engagement item model (Steck 2019, "Embarrassingly Shallow Autoencoders"): a closed-form
    item-item regression over items with enough interactions to learn from."""

    name = "co-engagement (EASE)"

    def __init__(self, l2: float = 300.0, min_interactions: int = 3) -> None:
        self.l2 = l2
        self.min_interactions = min_interactions

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> EASE:
        counts = np.asarray(train.sum(axis=0)).ravel()
        self.kept = np.flatnonzero(counts >= self.min_interactions)
        x = train[:, self.kept]
        gram = (x.T @ x).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        inverse = np.linalg.inv(gram)
        weights = inverse / -np.diag(inverse)
        np.fill_diagonal(weights, 0.0)
        self.weights = weights.astype(np.float32)
        self.train = train
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        out = np.zeros((len(users), self.train.shape[1]), dtype=np.float32)
        out[:, self.kept] = np.asarray(self.train[users][:, self.kept] @ self.weights)
        return out


@dataclass
class StoaRanker(Model):
    """Stoa's ranker: candidate signals blended by weights learned on a held-out, later slice of the
    training period (so the blend is fitted to predict the *next* engagements, as the feed must).

    Signals: co-engagement (EASE), collaborative factors (ALS), item-kNN, long-run popularity and
    recent popularity (the trending source). Each is standardised per user before blending.
    """

    name: str = "Stoa ranker"
    weights: dict[str, float] = field(default_factory=dict)
    recent_fraction: float = 0.1
    split: str = "global"  # how the validation slice is cut: "global" or "per-user", like the test

    def _signals(self, train: sparse.csr_matrix, data: Interactions) -> dict[str, Model]:
        return {"ease": EASE().fit(train, data), "als": ALS().fit(train, data),
                "knn": ItemKNN().fit(train, data), "popular": MostPopular().fit(train, data),
                "recent": RecentPopular(self.recent_fraction).fit(train, data)}

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> StoaRanker:
        # 1. Learn the blend: fit the signals on the earlier 85 % of the training period and choose the
        #    weights that best rank what users engaged with in the last 15 %, cut as the test was cut
        #    (``split``: the newest interactions overall, or each user's newest).
        from stoa.feeds.interactions import per_user_temporal_split, temporal_split

        cut = temporal_split if self.split == "global" else per_user_temporal_split
        early, late = cut(data, 0.15)
        early_matrix = early.matrix()
        signals = self._signals(early_matrix, early)
        users = np.unique(late.users[np.isin(late.users, np.unique(early.users))])
        cache = {name: _standardise(model.scores(users)) for name, model in signals.items()}
        self.weights = self._learn(cache, users, early_matrix, _relevant(late))
        # 2. Refit the signals on the whole training period with the learned weights.
        self.models = self._signals(train, data)
        return self

    def _learn(self, cache: dict[str, np.ndarray], users: np.ndarray, seen: sparse.csr_matrix,
               relevant: dict[int, set[int]]) -> dict[str, float]:
        """Coordinate ascent over a small grid of weights, straight on the validation NDCG@10."""
        from stoa.feeds.evaluate import evaluate_scores

        def quality(weights: dict[str, float]) -> float:
            blended = sum(w * cache[n] for n, w in weights.items() if w)
            return evaluate_scores(np.asarray(blended), users, seen, relevant, k=10)

        weights = {"ease": 1.0, "als": 0.0, "knn": 0.0, "popular": 0.0, "recent": 0.0}
        best = quality(weights)
        for _ in range(2):
            for name in weights:
                for value in (0.0, 0.1, 0.25, 0.5, 1.0, 2.0):
                    trial = {**weights, name: value}
                    if not any(trial.values()):
                        continue
                    score = quality(trial)
                    if score > best:
                        best, weights = score, trial
        self.validation_ndcg = best
        return weights

    def scores(self, users: np.ndarray) -> np.ndarray:
        total = np.zeros((len(users), next(iter(self.models.values())).scores(users[:1]).shape[1]), dtype=np.float32)
        for name, weight in self.weights.items():
            if weight:
                total += weight * _standardise(self.models[name].scores(users))
        return total


@dataclass
class StoaHead(StoaRanker):
    """The same signals, weighted by the feed's own learner: ``ranking_training.fit``, the logistic
    regression every engagement head of the live model is. Examples are (user, candidate) pairs —
    each user's ``candidates`` best items by the plain sum of the signals, as the feed's sources
    hand the ranker a few hundred posts — labelled 1 when the user liked the item (rated it 4 or
    more) in the later slice; the head's weights are the blend."""

    name: str = "Stoa engagement head"
    candidates: int = 200

    def _learn(self, cache: dict[str, np.ndarray], users: np.ndarray, seen: sparse.csr_matrix,
               relevant: dict[int, set[int]]) -> dict[str, float]:
        from stoa.feeds.ranking_training import fit

        names = sorted(cache)
        pooled = sum(cache[n] for n in names)
        pooled = np.where(seen[users].toarray() > 0, -np.inf, pooled)
        k = min(self.candidates, pooled.shape[1] - 1)
        picked = np.argpartition(-pooled, k, axis=1)[:, :k]
        rows = np.repeat(np.arange(len(users)), k)
        items = picked.ravel()
        x = np.stack([cache[n][rows, items] for n in names], axis=1).astype(np.float64)
        y = np.fromiter((int(item) in relevant.get(int(users[row]), ()) for row, item in zip(rows, items,
                                                                                           strict=True)),
                        dtype=np.float64, count=len(items))
        head = fit(x, y, names)
        self.validation_auc = head["auc_held_out"]
        return {n: float(head["weights"].get(n, 0.0)) for n in names}


class RecentPopular(Model):
    """Popularity over the most recent slice of the training period (what is trending now)."""

    name = "recent popularity"

    def __init__(self, fraction: float = 0.1) -> None:
        self.fraction = fraction

    def fit(self, train: sparse.csr_matrix, data: Interactions) -> RecentPopular:
        recent = data.times >= np.quantile(data.times, 1 - self.fraction)
        self.popularity = np.bincount(data.items[recent], minlength=data.n_items).astype(np.float32)
        return self

    def scores(self, users: np.ndarray) -> np.ndarray:
        return np.tile(self.popularity, (len(users), 1))


def _standardise(scores: np.ndarray) -> np.ndarray:
    mean = scores.mean(axis=1, keepdims=True)
    std = scores.std(axis=1, keepdims=True) + 1e-9
    return ((scores - mean) / std).astype(np.float32)


def _relevant(test: Interactions, min_rating: float = 4.0) -> dict[int, set[int]]:
    out: dict[int, set[int]] = {}
    for user, item, rating in zip(test.users, test.items, test.ratings, strict=True):
        if rating >= min_rating:
            out.setdefault(int(user), set()).add(int(item))
    return out
