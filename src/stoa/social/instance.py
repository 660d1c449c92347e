"""Facts about this server as a whole, as its instance endpoints publish them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from stoa.core.context import Context
from stoa.store.schema import accounts, statuses


@dataclass(frozen=True)
class Statistics:
    users: int  # local accounts, in the region asked
    posts: int  # posts not deleted
    domains: int  # other servers known (none until federation)


async def statistics(ctx: Context) -> Statistics:
    async with ctx.db.read() as conn:
        users = (await conn.execute(select(func.count()).select_from(accounts)
                                    .where(accounts.c.domain.is_(None)))).scalar_one()
        posts = (await conn.execute(select(func.count()).select_from(statuses)
                                    .where(statuses.c.deleted_at.is_(None)))).scalar_one()
    return Statistics(int(users), int(posts), 0)
