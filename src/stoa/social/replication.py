"""Which social events replicate to the other regions, and what each copies there.

Registered with the store's ``RULES`` on import (``social/consumers.py`` imports this module, so a
process that runs social's consumers replicates by social's rules). A rule copies the rows the event
changed, when they are homed in the source region, and returns the event for the target's own
consumers — or None when nothing of it concerns the target (a direct post none of whose recipients
lives there, a follow request for an account homed elsewhere). Events with no rule here — mutes and
the For You controls and views — are private and stay in their home region; a block goes only to the
blocked person's home region, held for them, because that region must enforce it.
"""

from __future__ import annotations

from sqlalchemy import Table, or_

from stoa.social.events import (
    AccountCounted,
    AccountCreated,
    AccountErased,
    AccountSuspended,
    AccountUnsuspended,
    AccountUpdated,
    BlockCreated,
    BlockDeleted,
    FavouriteCreated,
    FavouriteDeleted,
    FollowCreated,
    FollowDeleted,
    FollowRequestAuthorized,
    FollowRequestCreated,
    FollowRequestRejected,
    FollowRequestWithdrawn,
    FollowUpdated,
    PinCreated,
    PinDeleted,
    StatusCounted,
    StatusCreated,
    StatusDeleted,
    StatusUpdated,
)
from stoa.store.events import Event
from stoa.store.replication import RULES, Copier
from stoa.store.schema import blocks, follow_requests, follows, pins

Account = AccountCreated | AccountUpdated | AccountSuspended | AccountUnsuspended | AccountCounted


@RULES.on(AccountCreated, AccountUpdated, AccountSuspended, AccountUnsuspended, AccountCounted)
async def account(copy: Copier, event: Account) -> Event | None:
    await copy.account(event.account_id)
    return event


@RULES.on(AccountErased)
async def account_erased(copy: Copier, event: AccountErased) -> Event | None:
    await copy.account(event.account_id)
    # Requests to or from the erased account are void here too.
    await copy.remove(follow_requests, or_(follow_requests.c.account_id == event.account_id,
                                           follow_requests.c.target_account_id == event.account_id))
    # So are the blocks held here by or for it (the erased person's choices go with them).
    await copy.remove(blocks, blocks.c.held_for_id.is_not(None),
                      or_(blocks.c.account_id == event.account_id, blocks.c.target_account_id == event.account_id))
    return event


@RULES.on(StatusCreated, StatusDeleted)
async def status_created_or_deleted(copy: Copier, event: StatusCreated | StatusDeleted) -> Event | None:
    if not await copy.status(event.status_id):
        return None  # a direct post none of whose recipients lives here: nothing of it comes here
    if event.in_reply_to_id is not None:
        await copy.counts(event.in_reply_to_id)  # a reply changed its parent's count
    if isinstance(event, StatusDeleted):  # a deleted post is no longer pinned (the home region's pin went)
        await copy.remove(pins, pins.c.status_id == event.status_id)
    return event


@RULES.on(StatusUpdated, StatusCounted)
async def status_changed(copy: Copier, event: StatusUpdated | StatusCounted) -> Event | None:
    return event if await copy.status(event.status_id) else None


@RULES.on(FavouriteCreated, FavouriteDeleted)
async def favourite(copy: Copier, event: FavouriteCreated | FavouriteDeleted) -> Event | None:
    # A like is private: no row travels, only the event, for the post's home region (its count, its
    # author's notification), and the counts of a post homed in the source.
    await copy.counts(event.status_id)
    return event


@RULES.on(PinCreated, PinDeleted)
async def pin(copy: Copier, event: PinCreated | PinDeleted) -> Event | None:
    await copy.status(event.status_id)  # the pin points at the post: it must be here first
    await copy.remove(pins, pins.c.account_id == event.account_id, pins.c.status_id == event.status_id)
    await copy.rows(pins, ["account_id", "status_id"], pins.c.account_id == event.account_id,
                    pins.c.status_id == event.status_id)  # still pinned (not unpinned since): copied again
    return event


@RULES.on(FollowCreated, FollowUpdated)
async def follow_made_or_changed(copy: Copier, event: FollowCreated | FollowUpdated) -> Event | None:
    for account_id in (event.account_id, event.target_account_id):
        await copy.account(account_id)
    await copy.rows(follows, ["id"], follows.c.account_id == event.account_id,
                    follows.c.target_account_id == event.target_account_id)
    return event


@RULES.on(FollowDeleted)
async def follow_deleted(copy: Copier, event: FollowDeleted) -> Event | None:
    await copy.remove(follows, follows.c.account_id == event.account_id,
                      follows.c.target_account_id == event.target_account_id)
    for account_id in (event.account_id, event.target_account_id):
        await copy.account(account_id)
    return event


@RULES.on(FollowRequestCreated)
async def follow_request_created(copy: Copier, event: FollowRequestCreated) -> Event | None:
    """A request to a locked account homed in the target region: a copy held for that account."""
    return await _deliver_held_for_target(copy, follow_requests, event)  # None: withdrawn since


@RULES.on(FollowRequestWithdrawn)
async def follow_request_withdrawn(copy: Copier, event: FollowRequestWithdrawn) -> Event | None:
    """The requester's region withdrew it: the copy held here goes."""
    return await _remove_held_copy(copy, follow_requests, event)


@RULES.on(FollowRequestAuthorized, FollowRequestRejected)
async def follow_request_answered(copy: Copier,
                                  event: FollowRequestAuthorized | FollowRequestRejected) -> Event | None:
    """Answered in the target's region: the requester's own pending row, if it lives here, goes (the
    follow itself, when accepted, is public and replicates as any other)."""
    gone = await copy.remove(follow_requests, follow_requests.c.account_id == event.account_id,
                             follow_requests.c.target_account_id == event.target_account_id,
                             follow_requests.c.held_for_id.is_(None))
    return event if gone else None


@RULES.on(BlockCreated)
async def block_created(copy: Copier, event: BlockCreated) -> Event | None:
    """A block of someone homed in the target region: a copy held for them there, so that region refuses
    them the blocker's posts and a follow back (the follows the block ended replicate on their own)."""
    return await _deliver_held_for_target(copy, blocks, event)  # None: lifted since


@RULES.on(BlockDeleted)
async def block_deleted(copy: Copier, event: BlockDeleted) -> Event | None:
    """Lifted in the blocker's region: the copy held here goes."""
    return await _remove_held_copy(copy, blocks, event)


Pair = FollowRequestCreated | FollowRequestWithdrawn | BlockCreated | BlockDeleted


async def _deliver_held_for_target(copy: Copier, table: Table, event: Pair) -> Event | None:
    """Copy the source's own row of (account, target) into the target's home region, held for the target;
    None when the target lives elsewhere or the row is gone from the source already."""
    if not await copy.homed_in_target(event.target_account_id):
        return None
    await copy.account(event.account_id)
    delivered = await copy.rows(
        table, ["account_id", "target_account_id"], table.c.account_id == event.account_id,
        table.c.target_account_id == event.target_account_id, table.c.held_for_id.is_(None),
        held_for_id=event.target_account_id)
    return event if delivered else None


async def _remove_held_copy(copy: Copier, table: Table, event: Pair) -> Event | None:
    """Remove the copy of (account, target) held here; None when there was none."""
    gone = await copy.remove(table, table.c.account_id == event.account_id,
                             table.c.target_account_id == event.target_account_id, table.c.held_for_id.is_not(None))
    return event if gone else None
