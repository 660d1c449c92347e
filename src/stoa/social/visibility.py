"""Who may see a post: the one rule.

Every path that returns, counts, streams, explains or serves the media of a post asks this
module, either one post at a time (``can_see``, ``get_visible``) or for a page of posts at once
(``may_see`` over facts loaded in batch by ``stoa.social.views``). The rule, as Mastodon's:

- a deleted post, or one whose author is suspended or erased, is seen by no one;
- its author sees it;
- a block either way hides it;
- public and unlisted posts are seen by everyone;
- followers-only posts by the author's followers and the accounts it mentions *now*;
- direct posts by the accounts it mentions now (an edit that drops a mention drops the access);
- a boost is seen only by those who may see both the boost and the boosted post, so a boost
  never widens the audience of what it boosts.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import literal, select, union_all

from stoa.core.context import Context
from stoa.core.errors import NotFound
from stoa.store.database import Connection
from stoa.store.schema import accounts, blocks, follows, mentions, statuses

OPEN = ("public", "unlisted")


def may_see(viewer_id: int | None, post: Any, author: Any, mentioned: Collection[int],
            blocked: Collection[int], followed: Collection[int], *, deleted_too: bool = False) -> bool:
    """The rule for one post (not following a boost to its original: see ``may_see_boost``).

    ``mentioned``: who the post mentions now; ``blocked``: accounts that block or are blocked by the
    viewer; ``followed``: accounts the viewer follows. ``deleted_too`` asks whether the viewer could
    see the post were it not deleted (to whom its deletion may be announced).
    """
    if post.deleted_at is not None and not deleted_too:
        return False
    if author is None or author.suspended_at is not None:
        return False
    if viewer_id is not None and viewer_id == post.account_id:
        return True
    if viewer_id is not None and post.account_id in blocked:
        return False
    if post.visibility in OPEN:
        return True
    if viewer_id is None:
        return False
    if viewer_id in mentioned:
        return True
    return post.visibility == "private" and post.account_id in followed


async def _facts(conn: Connection, viewer_id: int | None, post: Any) -> tuple[Any, set[int], set[int], set[int]]:
    """The author, the current mentions, and the viewer's blocks and follows concerning the author."""
    author = (await conn.execute(select(accounts.c.id, accounts.c.suspended_at)
                                 .where(accounts.c.id == post.account_id))).first()
    if viewer_id is None or viewer_id == post.account_id:
        return author, set(), set(), set()
    other = post.account_id
    rows = await conn.execute(union_all(
        select(literal("b").label("kind"), blocks.c.target_account_id.label("aid"))
        .where(blocks.c.account_id == viewer_id, blocks.c.target_account_id == other),
        select(literal("b"), blocks.c.account_id).where(blocks.c.account_id == other,
                                                        blocks.c.target_account_id == viewer_id),
        select(literal("f"), follows.c.target_account_id).where(follows.c.account_id == viewer_id,
                                                                follows.c.target_account_id == other),
        select(literal("m"), mentions.c.account_id).where(mentions.c.status_id == post.id,
                                                          mentions.c.account_id == viewer_id),
    ))
    found: dict[str, set[int]] = {"b": set(), "f": set(), "m": set()}
    for row in rows:
        found[row.kind].add(int(row.aid))
    return author, found["m"], found["b"], found["f"]


async def can_see(conn: Connection, viewer_id: int | None, post: Any, *, deleted_too: bool = False) -> bool:
    """Whether ``viewer_id`` (None: anyone, signed out) may see ``post`` (a ``statuses`` row); for a
    boost, the boosted post too."""
    author, mentioned, blocked, followed = await _facts(conn, viewer_id, post)
    if not may_see(viewer_id, post, author, mentioned, blocked, followed, deleted_too=deleted_too):
        return False
    if post.reblog_of_id is None:
        return True
    original = (await conn.execute(select(statuses).where(statuses.c.id == post.reblog_of_id))).first()
    return original is not None and await can_see(conn, viewer_id, original, deleted_too=deleted_too)


async def get_visible(conn: Connection, viewer_id: int | None, status_id: int) -> Any:
    """The status row if ``viewer_id`` may see it, else NotFound — the same answer as for a post that
    does not exist, so that no caller can learn whether a hidden post exists."""
    row = (await conn.execute(select(statuses).where(statuses.c.id == status_id))).first()
    if row is None or not await can_see(conn, viewer_id, row):
        raise NotFound()
    return row


async def could_see_deleted(conn: Connection, viewer_id: int | None, status_id: int) -> bool:
    """Whether the viewer could have seen a post that is now deleted: who may hear that it is gone."""
    row = (await conn.execute(select(statuses).where(statuses.c.id == status_id))).first()
    return row is not None and await can_see(conn, viewer_id, row, deleted_too=True)


async def may_hear_of_deletion(ctx: Context, viewer_id: int | None, status_id: int) -> bool:
    """``could_see_deleted`` in its own read: whom a stream tells that a post is gone."""
    async with ctx.db.read() as conn:
        return await could_see_deleted(conn, viewer_id, status_id)
