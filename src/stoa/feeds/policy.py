"""For You's policy: what never shows, and how each page is spread.

No post of an account the viewer mutes or blocks (or that blocks them), none of the viewer's own,
none the viewer has seen or asked less of, none carrying a label the viewer hides (``LABELS``).
Then each page of ``SPREAD_PAGE`` is spread: at most ``MAX_PER_AUTHOR`` posts per author and
``MAX_PER_TOPIC`` per hashtag, and for a viewer of several languages no language over
``MAX_LANGUAGE_SHARE`` of it while posts in the others wait. A post the spread holds back moves to a
later page; nothing is dropped.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from stoa.feeds.signals import Viewer

if TYPE_CHECKING:
    from stoa.feeds.candidates import Candidate

# Labels a viewer can choose to hide from For You: what each means for a post.
LABELS: dict[str, str] = {
    "sensitive": "marked sensitive by its author (a content warning marks a post sensitive too)",
    "content_warning": "behind a content warning",
    "bot": "posted by an automated account",
}
MAX_PER_AUTHOR = 2  # per page of SPREAD_PAGE
MAX_PER_TOPIC = 3  # posts with the same hashtag, per page
MAX_LANGUAGE_SHARE = 0.75  # of a page, for a viewer who reads several languages
SPREAD_PAGE = 20


def labels_of(row: Any) -> set[str]:
    """The labels (``LABELS``) a post carries."""
    return {label for label, present in (("sensitive", row.sensitive), ("content_warning", bool(row.spoiler_text)),
                                         ("bot", row.bot)) if present}


def excluded(status_id: int, row: Any, viewer: Viewer, unwanted_authors: set[int]) -> bool:
    """Nothing by ``unwanted_authors`` (muted, blocked, blocking, the viewer), seen, asked less of, or
    carrying a label the viewer hides."""
    return (row.account_id in unwanted_authors or status_id in viewer.less_statuses or status_id in viewer.seen
            or bool(viewer.hidden_labels and viewer.hidden_labels.intersection(labels_of(row))))


def spread(order: list[Candidate], viewer: Viewer, upto: int | None = None) -> list[Candidate]:
    """Policy over the ranked list, a page of ``SPREAD_PAGE`` at a time: the best post that keeps the page
    within ``MAX_PER_AUTHOR`` per author, ``MAX_PER_TOPIC`` per hashtag and, for a viewer of several
    languages, ``MAX_LANGUAGE_SHARE`` per language, comes next. When none does, the best remaining post
    does (a page is never short because of the spread). Held-back posts keep their order for later pages.

    With ``upto``, only the pages that cover the first ``upto`` positions are spread (each page depends
    only on the ones before it, so those positions are exactly the full spread's); the rest follows
    in score order."""
    language_cap = max(1, int(SPREAD_PAGE * MAX_LANGUAGE_SHARE)) if len(viewer.languages) > 1 else SPREAD_PAGE
    waiting = list(order)
    result: list[Candidate] = []
    while waiting:
        if upto is not None and len(result) >= upto:
            return result + waiting
        authors: Counter[int] = Counter()
        topics: Counter[str] = Counter()
        languages: Counter[str] = Counter()
        page: list[Candidate] = []
        held: list[Candidate] = []
        # One pass in score order: a post that does not fit now cannot fit later on this page (the
        # counts only grow), so this is the greedy "best post that fits" without rescanning.
        for position, candidate in enumerate(waiting):
            if len(page) == SPREAD_PAGE:
                held.extend(waiting[position:])
                break
            if (authors[int(candidate.row.account_id)] < MAX_PER_AUTHOR
                    and all(topics[t] < MAX_PER_TOPIC for t in candidate.tags)
                    and languages[candidate.row.language or ""] < language_cap):
                authors[int(candidate.row.account_id)] += 1
                topics.update(set(candidate.tags))
                languages[candidate.row.language or ""] += 1
                page.append(candidate)
            else:
                held.append(candidate)
        fill = SPREAD_PAGE - len(page)  # nothing left that fits: the best of the rest, so no page is short
        for candidate in held[:fill]:
            page.append(candidate)
        page.sort(key=lambda c: (-c.score, -int(c.row.id)))
        for candidate in held[fill:]:  # ranked above something on this page, yet moved to a later one
            candidate.held_back = candidate.held_back or (-candidate.score, -int(candidate.row.id)) < (
                -page[-1].score, -int(page[-1].row.id))
        result.extend(page)
        waiting = held[fill:]
    return result
