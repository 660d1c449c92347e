"""The For You events: the viewer's controls, what they saw, and the suggestions they dismissed.

All of it is behaviour, private data of the viewer's home region: ``private``, never replicated.
For You reads ``feed_preferences`` and ``views`` on every request, so nothing derived waits on
these events; they make each change replayable and give federation and the data export a record.
"""

from __future__ import annotations

from dataclasses import dataclass

from stoa.store.events import Event

_READ_AT_REQUEST = "For You reads the stored rows on every request: no projection to keep; a record for replays"


@dataclass(frozen=True)
class ShowLessChosen(Event, name="for_you.less", private=True, unconsumed=_READ_AT_REQUEST):
    """"Show less like this" for exactly one of a post, an author or a hashtag."""

    account_id: int
    status_id: int | None = None
    target_account_id: int | None = None
    tag: str | None = None


@dataclass(frozen=True)
class LabelChosen(Event, name="for_you.label", private=True, unconsumed=_READ_AT_REQUEST):
    """Posts carrying ``label`` hidden from the viewer's For You, or shown again."""

    account_id: int
    label: str
    hidden: bool


@dataclass(frozen=True)
class HistoryReset(Event, name="for_you.reset", private=True, unconsumed=_READ_AT_REQUEST):
    """"Reset my history": every "show less" forgotten, engagements before ``reset_at`` ignored."""

    account_id: int
    reset_at: str  # ISO 8601, as stored in feed_preferences


@dataclass(frozen=True)
class ViewRecorded(Event, name="view.recorded", private=True, unconsumed=_READ_AT_REQUEST):
    """One recorded view (the API records one per call, upserted into the viewer's row for the post)."""

    account_id: int
    status_id: int
    watched_ms: int
    skipped: bool


@dataclass(frozen=True)
class SuggestionDismissed(Event, name="suggestion.dismissed", private=True, unconsumed=_READ_AT_REQUEST):
    """"Don't suggest this account again" (the follow suggestions read the dismissals on every request)."""

    account_id: int
    target_account_id: int
