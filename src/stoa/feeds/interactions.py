"""Interaction datasets for offline evaluation: loading (with errors naming file and line) and temporal splits."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse


class DatasetError(ValueError):
    """A dataset file that is missing or malformed; the message names the file and line."""


@dataclass(frozen=True)
class Interactions:
    users: np.ndarray  # int32 user index
    items: np.ndarray  # int32 item index
    ratings: np.ndarray  # float32
    times: np.ndarray  # int64 seconds
    n_users: int
    n_items: int
    item_ids: np.ndarray  # original ids, by index

    def subset(self, mask: np.ndarray) -> Interactions:
        return Interactions(self.users[mask], self.items[mask], self.ratings[mask], self.times[mask],
                            self.n_users, self.n_items, self.item_ids)

    def matrix(self) -> sparse.csr_matrix:
        """Users x items, 1 where the user interacted (implicit feedback)."""
        data = np.ones(len(self.users), dtype=np.float32)
        m = sparse.csr_matrix((data, (self.users, self.items)), shape=(self.n_users, self.n_items))
        m.data[:] = 1.0  # duplicates count once
        return m


def load_movielens(path: Path) -> Interactions:
    """MovieLens ratings.csv (userId,movieId,rating,timestamp)."""
    if not path.is_file():
        raise DatasetError(f"{path}: file not found")
    users: list[int] = []
    items: list[int] = []
    ratings: list[float] = []
    times: list[int] = []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header != ["userId", "movieId", "rating", "timestamp"]:
            raise DatasetError(f"{path}:1: expected the header userId,movieId,rating,timestamp, got {header}")
        for line_number, row in enumerate(reader, start=2):
            if len(row) != 4:
                raise DatasetError(f"{path}:{line_number}: expected 4 fields, got {len(row)}")
            try:
                user, item, rating, stamp = int(row[0]), int(row[1]), float(row[2]), int(row[3])
            except ValueError:
                raise DatasetError(f"{path}:{line_number}: not numbers: {row}") from None
            if not 0 <= rating <= 5:
                raise DatasetError(f"{path}:{line_number}: rating {rating} is outside 0-5")
            users.append(user)
            items.append(item)
            ratings.append(rating)
            times.append(stamp)
    if not users:
        raise DatasetError(f"{path}: no interactions")
    user_ids, user_index = np.unique(np.array(users), return_inverse=True)
    item_ids, item_index = np.unique(np.array(items), return_inverse=True)
    return Interactions(user_index.astype(np.int32), item_index.astype(np.int32),
                        np.array(ratings, dtype=np.float32), np.array(times, dtype=np.int64),
                        len(user_ids), len(item_ids), item_ids)


def temporal_split(data: Interactions, test_fraction: float = 0.2) -> tuple[Interactions, Interactions]:
    """Everything before the cut-off time trains; everything after tests (no peeking at the future)."""
    cutoff = np.quantile(data.times, 1 - test_fraction)
    return data.subset(data.times < cutoff), data.subset(data.times >= cutoff)


def per_user_temporal_split(data: Interactions, test_fraction: float = 0.2) -> tuple[Interactions, Interactions]:
    """Each user's newest interactions test, their older ones train (every user is evaluated; other
    users' later interactions may train, so this split is kinder than the global one)."""
    order = np.lexsort((data.times, data.users))
    users_sorted = data.users[order]
    starts = np.searchsorted(users_sorted, np.arange(data.n_users))
    ends = np.searchsorted(users_sorted, np.arange(data.n_users), side="right")
    test_mask = np.zeros(len(order), dtype=bool)
    for start, end in zip(starts, ends, strict=True):
        n_test = round((end - start) * test_fraction)
        if n_test and end - start > n_test:
            test_mask[order[end - n_test:end]] = True
    return data.subset(~test_mask), data.subset(test_mask)
