"""Follows, blocks and mutes as the actions leave them (no HTTP)."""

from __future__ import annotations

import pytest

from stoa.core.context import Context
from stoa.core.errors import Forbidden, NotFound, ValidationFailed
from stoa.social import relationships
from tests.social.conftest import new_person


async def test_follow_unfollow_and_remove_from_followers(ctx: Context) -> None:
    alice, bob = await new_person(ctx, "alice"), await new_person(ctx, "bob")
    await relationships.follow(ctx, alice, bob, reblogs=False, notify=True)
    rel = await relationships.relationship_with(ctx, alice, bob)
    assert (rel.following, rel.showing_reblogs, rel.notifying) == (True, False, True)
    assert (await relationships.relationship_with(ctx, bob, alice)).followed_by

    await relationships.follow(ctx, alice, bob, reblogs=True)  # following again changes only the options
    rel = await relationships.relationship_with(ctx, alice, bob)
    assert (rel.following, rel.showing_reblogs, rel.notifying) == (True, True, True)

    await relationships.unfollow(ctx, alice, bob)
    assert not (await relationships.relationship_with(ctx, alice, bob)).following

    await relationships.follow(ctx, alice, bob)
    await relationships.remove_follower(ctx, bob, alice)  # bob drops alice from his followers
    assert not (await relationships.relationship_with(ctx, alice, bob)).following
    assert not (await relationships.relationship_with(ctx, bob, alice)).followed_by


async def test_block_severs_follows_and_unblock_restores_nothing_but_the_block(ctx: Context) -> None:
    alice, bob = await new_person(ctx, "alice"), await new_person(ctx, "bob")
    await relationships.follow(ctx, alice, bob)
    await relationships.follow(ctx, bob, alice)
    await relationships.block(ctx, alice, bob)
    rel = await relationships.relationship_with(ctx, alice, bob)
    assert (rel.blocking, rel.following, rel.followed_by) == (True, False, False)
    assert (await relationships.relationship_with(ctx, bob, alice)).blocked_by
    with pytest.raises(Forbidden):  # the blocked cannot follow back
        await relationships.follow(ctx, bob, alice)

    await relationships.unblock(ctx, alice, bob)
    rel = await relationships.relationship_with(ctx, alice, bob)
    assert (rel.blocking, rel.following) == (False, False)  # follows do not come back by themselves
    await relationships.follow(ctx, bob, alice)  # and following is possible again
    assert (await relationships.relationship_with(ctx, bob, alice)).following


async def test_mute_and_unmute(ctx: Context) -> None:
    alice, bob = await new_person(ctx, "alice"), await new_person(ctx, "bob")
    await relationships.mute(ctx, alice, bob, notifications=False)
    rel = await relationships.relationship_with(ctx, alice, bob)
    assert (rel.muting, rel.muting_notifications) == (True, False)
    await relationships.mute(ctx, alice, bob, notifications=True)  # muting again updates the mute
    assert (await relationships.relationship_with(ctx, alice, bob)).muting_notifications
    await relationships.unmute(ctx, alice, bob)
    assert not (await relationships.relationship_with(ctx, alice, bob)).muting


async def test_actions_refuse_oneself_and_unknown_accounts(ctx: Context) -> None:
    alice = await new_person(ctx, "alice")
    for action in (relationships.follow, relationships.block, relationships.mute, relationships.unblock,
                   relationships.unmute, relationships.unfollow):
        with pytest.raises(ValidationFailed):
            await action(ctx, alice, alice)
        with pytest.raises(NotFound):
            await action(ctx, alice, 999_999_999)
