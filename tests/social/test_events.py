"""The events actions leave in the outbox: one for every change of state, none when nothing changed,
and the same typed event its consumers read back."""

from __future__ import annotations

from sqlalchemy import select

from stoa.core.context import Context
from stoa.feeds import controls, suggestions, viewing
from stoa.feeds.events import HistoryReset, LabelChosen, ShowLessChosen, SuggestionDismissed, ViewRecorded
from stoa.social import interactions, markers, relationships, statuses
from stoa.social.events import (
    BlockDeleted,
    BookmarkCreated,
    BookmarkDeleted,
    FollowUpdated,
    MarkerSaved,
    MuteDeleted,
    PinCreated,
    PinDeleted,
    StatusCreated,
)
from stoa.store.events import Event, decode
from stoa.store.schema import events
from tests.social.conftest import new_person


async def outbox_after(ctx: Context, position: int) -> list[Event | None]:
    async with ctx.db.read() as conn:
        rows = (await conn.execute(select(events.c.type, events.c.payload).where(events.c.id > position)
                                   .order_by(events.c.id))).all()
    return [decode(r.type, r.payload) for r in rows]


async def last_id(ctx: Context) -> int:
    async with ctx.db.read() as conn:
        return int((await conn.execute(select(events.c.id).order_by(events.c.id.desc()).limit(1))).scalar() or 0)


async def test_undoing_a_block_or_a_mute_is_an_event_once(ctx: Context) -> None:
    alice, bob = await new_person(ctx, "alice"), await new_person(ctx, "bob")
    await relationships.block(ctx, alice, bob)
    await relationships.mute(ctx, alice, bob)
    start = await last_id(ctx)
    for _ in range(2):  # the second time there is nothing to undo
        await relationships.unblock(ctx, alice, bob)
        await relationships.unmute(ctx, alice, bob)
    assert await outbox_after(ctx, start) == [BlockDeleted(alice, bob), MuteDeleted(alice, bob)]


async def test_changing_follow_options_is_an_event_only_when_they_change(ctx: Context) -> None:
    alice, bob = await new_person(ctx, "alice"), await new_person(ctx, "bob")
    await relationships.follow(ctx, alice, bob)
    start = await last_id(ctx)
    await relationships.follow(ctx, alice, bob, notify=True)
    await relationships.follow(ctx, alice, bob, notify=True)  # as it is already
    await relationships.follow(ctx, alice, bob, reblogs=False)
    assert await outbox_after(ctx, start) == [FollowUpdated(alice, bob, show_reblogs=True, notify=True),
                                              FollowUpdated(alice, bob, show_reblogs=False, notify=True)]


async def test_pinning_posting_and_boosting_leave_their_typed_events(ctx: Context) -> None:
    alice, bob = await new_person(ctx, "alice"), await new_person(ctx, "bob")
    start = await last_id(ctx)
    post = await statuses.post_status(ctx, alice, statuses.Draft(text="hello #Stoa @bob", language="en"))
    await interactions.set_pin(ctx, alice, post, True)
    await interactions.set_pin(ctx, alice, post, True)  # pinned already
    await interactions.set_pin(ctx, alice, post, False)
    boost = await interactions.reblog(ctx, bob, post)
    assert await outbox_after(ctx, start) == [
        StatusCreated(post, alice, "public", mentions=[bob], tags=["stoa"], language="en"),
        PinCreated(alice, post), PinDeleted(alice, post),
        StatusCreated(boost, bob, "public", reblog_of_id=post, reblog_of_account_id=alice, language="en")]


async def test_for_you_controls_and_views_are_events(ctx: Context) -> None:
    alice, bob = await new_person(ctx, "alice"), await new_person(ctx, "bob")
    post = await statuses.post_status(ctx, bob, statuses.Draft(text="a walk in the hills", language="en"))
    start = await last_id(ctx)
    await controls.show_less(ctx, alice, tag="#Hills")
    await controls.show_less(ctx, alice, tag="hills")  # chosen already
    await controls.set_label(ctx, alice, "sensitive", hide=True)
    await controls.set_label(ctx, alice, "sensitive", hide=False)
    await viewing.record_view(ctx, alice, post, watched_ms=1200)
    await controls.reset_history(ctx, alice)
    recorded = await outbox_after(ctx, start)
    assert recorded[:4] == [ShowLessChosen(alice, tag="hills"), LabelChosen(alice, "sensitive", hidden=True),
                            LabelChosen(alice, "sensitive", hidden=False), ViewRecorded(alice, post, 1200, False)]
    assert isinstance(recorded[4], HistoryReset) and recorded[4].account_id == alice and len(recorded) == 5


async def test_bookmarks_markers_and_dismissed_suggestions_are_events_once(ctx: Context) -> None:
    alice, bob = await new_person(ctx, "alice"), await new_person(ctx, "bob")
    post = await statuses.post_status(ctx, bob, statuses.Draft(text="worth keeping", language="en"))
    start = await last_id(ctx)
    for on in (True, True, False, False):  # the second of each changes nothing
        await interactions.set_bookmark(ctx, alice, post, on)
    await markers.save_markers(ctx, alice, {"home": post, "notifications": 3})
    await markers.save_markers(ctx, alice, {"home": post + 1})
    await suggestions.dismiss(ctx, alice, bob)
    await suggestions.dismiss(ctx, alice, bob)
    assert await outbox_after(ctx, start) == [
        BookmarkCreated(alice, post), BookmarkDeleted(alice, post),
        MarkerSaved(alice, "home", post), MarkerSaved(alice, "notifications", 3), MarkerSaved(alice, "home", post + 1),
        SuggestionDismissed(alice, bob)]
