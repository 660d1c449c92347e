"""Reading a post in its context: the thread around it, its edit history, its source, and who liked
or boosted it — each only as far as the reader may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from stoa.core.context import Context
from stoa.core.errors import Forbidden
from stoa.social.paging import Page
from stoa.social.visibility import can_see, get_visible
from stoa.store.schema import (
    favourites,
    status_edits,
    statuses,
)


@dataclass
class Thread:
    ancestors: list[int]
    descendants: list[int]


async def context(ctx: Context, viewer_id: int | None, status_id: int) -> Thread:
    """Ancestors (oldest first) and descendants (depth-first, in reply order) the viewer may see."""
    async with ctx.db.read() as conn:
        row = await get_visible(conn, viewer_id, status_id)
        ancestors: list[int] = []
        parent_id = row.in_reply_to_id
        while parent_id is not None and len(ancestors) < 40:
            parent = (await conn.execute(select(statuses).where(statuses.c.id == parent_id))).first()
            if parent is None or not await can_see(conn, viewer_id, parent):
                break
            ancestors.append(int(parent.id))
            parent_id = parent.in_reply_to_id
        ancestors.reverse()
        descendants: list[int] = []
        frontier = [int(row.id)]
        while frontier and len(descendants) < 200:
            children = (await conn.execute(
                select(statuses).where(statuses.c.in_reply_to_id.in_(frontier), statuses.c.deleted_at.is_(None))
                .order_by(statuses.c.id)
            )).all()
            frontier = []
            for child in children:
                if await can_see(conn, viewer_id, child):
                    descendants.append(int(child.id))
                    frontier.append(int(child.id))
        descendants.sort()
    return Thread(ancestors, descendants)


async def history(ctx: Context, viewer_id: int | None, status_id: int) -> list[Any]:
    async with ctx.db.read() as conn:
        row = await get_visible(conn, viewer_id, status_id)
        edits = (await conn.execute(
            select(status_edits).where(status_edits.c.status_id == status_id).order_by(status_edits.c.id)
        )).all()
    return list(edits) if edits else [row]


async def source(ctx: Context, viewer_id: int, status_id: int) -> Any:
    async with ctx.db.read() as conn:
        row = await get_visible(conn, viewer_id, status_id)
    if row.account_id != viewer_id:
        raise Forbidden("This action is not allowed")
    return row


async def interacting_accounts(ctx: Context, viewer_id: int | None, status_id: int, kind: str,
                               page: Page) -> list[tuple[int, int]]:
    """(row id, account id) of who favourited or boosted a post, newest first."""
    async with ctx.db.read() as conn:
        await get_visible(conn, viewer_id, status_id)
        if kind == "favourited_by":
            table = favourites
            query = select(table.c.id, table.c.account_id).where(table.c.status_id == status_id)
        else:
            table = statuses
            query = select(table.c.id, table.c.account_id).where(
                table.c.reblog_of_id == status_id, table.c.deleted_at.is_(None))
        return await page.pairs(conn, query, table.c.id)
