"""For You's features: what the ranking knows of each candidate for this viewer, as one matrix.

engagement (log of favourites, boosts, replies), freshness (hours old), language match; and for
the personalised feed whether the viewer follows the author, the viewer's affinity with the author
and with the post's hashtags (their own favourites, boosts and long watches), "show less",
skips of the author, co-engagement, and similarity to their taste. ``WEIGHTS`` are the published
built-in weights: they rank until a learned model is logged (``stoa.feeds.ranking_model``), and
keep ranking the features no model could learn.
"""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np

from stoa.feeds.candidates import Candidate
from stoa.feeds.signals import Viewer

WEIGHTS: dict[str, float] = {
    "engagement": 1.0,  # log1p(favourites + 2 boosts + replies)
    "freshness": -0.08,  # per hour old
    "following": 1.5,  # the viewer follows the author
    "author_affinity": 1.2,  # log1p(the viewer's favourites and boosts of this author, 60 days)
    "tag_affinity": 0.9,  # log1p(the viewer's favourites and boosts of posts with these hashtags)
    "language_match": 0.8,  # the post is in one of the viewer's languages
    "shown_less": -3.0,  # the viewer asked to see less of this author or hashtag
    "skipped_author": -1.0,  # log1p(the viewer's quick skips of this author's posts, 60 days)
    "co_engagement": 0.6,  # log1p(people who liked what the viewer liked and also liked this post)
    "similarity": 1.5,  # cosine of the post's text vector with the viewer's taste (similar source only)
}
UNPERSONALISED = ("engagement", "freshness", "language_match")
PERSONAL = ("following", "author_affinity", "tag_affinity", "shown_less", "skipped_author", "co_engagement",
            "similarity")


def feature_matrix(candidates: list[Candidate], viewer: Viewer, now: datetime) -> tuple[list[str], np.ndarray]:
    """Every candidate's features for this viewer, one row each (the columns are ``WEIGHTS``' names:
    ``UNPERSONALISED`` first, then ``PERSONAL`` for the personalised feed). Built a column at a time."""
    names = list(UNPERSONALISED) + (list(PERSONAL) if viewer.personalised else [])
    rows = [c.row for c in candidates]
    x = np.zeros((len(rows), len(names)), dtype=np.float64)
    if not rows:
        return names, x
    x[:, 0] = np.log1p([r.favourites_count + 2 * r.reblogs_count + r.replies_count for r in rows])
    moment = now.timestamp()
    x[:, 1] = np.maximum(0.0, [(moment - (r.created_at if r.created_at.tzinfo else r.created_at.replace(
        tzinfo=UTC)).timestamp()) / 3600 for r in rows])
    x[:, 2] = [r.language in viewer.languages for r in rows]
    if viewer.personalised:
        authors = [int(r.account_id) for r in rows]
        x[:, 3] = [a in viewer.following for a in authors]
        x[:, 4] = np.log1p([viewer.author_affinity.get(a, 0) for a in authors])
        x[:, 5] = np.log1p([sum(viewer.tag_affinity.get(t, 0) for t in c.tags) for c in candidates])
        x[:, 6] = [a in viewer.less_authors or bool(viewer.less_tags.intersection(c.tags))
                   for a, c in zip(authors, candidates, strict=True)]
        x[:, 7] = np.log1p([viewer.skipped_authors.get(a, 0) for a in authors])
        x[:, 8] = np.log1p([c.co_likes for c in candidates])
        x[:, 9] = [c.similarity for c in candidates]
    return names, x


def featurise(candidate: Candidate, viewer: Viewer, now: datetime) -> dict[str, float]:
    """One candidate's features by name (the same numbers ``feature_matrix`` ranks with)."""
    names, x = feature_matrix([candidate], viewer, now)
    return dict(zip(names, x[0].tolist(), strict=True))
