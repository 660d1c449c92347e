"""The policy's spread of authors, hashtags and languages: pages, held back, never dropped."""

from __future__ import annotations

import random
from collections import Counter
from types import SimpleNamespace

import pytest

from stoa.feeds.candidates import Candidate
from stoa.feeds.policy import MAX_PER_AUTHOR, MAX_PER_TOPIC, SPREAD_PAGE, spread
from stoa.feeds.signals import Viewer


def viewer(languages: set[str]) -> Viewer:
    return Viewer(1, languages, set(), Counter(), Counter(), set(), True)


def candidates(seed: int, count: int = 150) -> list[Candidate]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        row = SimpleNamespace(id=10_000 - i, account_id=rng.randint(1, 12), language=rng.choice(["en", "en", "it"]))
        out.append(Candidate(row, {"trending"}, tags=rng.sample(["a", "b", "c", "d", "e"], rng.randint(0, 2)),
                             score=float(count - i)))
    return out


@pytest.mark.parametrize("seed", range(5))
def test_spreading_only_the_pages_asked_for_gives_the_same_positions(seed: int) -> None:
    full = [int(c.row.id) for c in spread(candidates(seed), viewer({"en", "it"}))]
    for upto in (1, 20, 21, 40, 60, 149, 150, 500):
        partial = [int(c.row.id) for c in spread(candidates(seed), viewer({"en", "it"}), upto)]
        assert partial[:upto] == full[:upto]
        assert sorted(partial) == sorted(full)  # nothing dropped, nothing repeated


def test_each_page_keeps_the_caps_while_other_posts_can_fill_it() -> None:
    page = spread(candidates(7), viewer({"en", "it"}), 20)[:SPREAD_PAGE]
    assert max(Counter(int(c.row.account_id) for c in page).values()) <= MAX_PER_AUTHOR
    assert max(Counter(t for c in page for t in c.tags).values()) <= MAX_PER_TOPIC
    assert Counter(c.row.language for c in page)["en"] <= 15
