"""Search: accounts and hashtags by prefix, posts by full text (FTS5 or PostgreSQL tsvector)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, literal_column, or_, select, text

from stoa.core.context import Context
from stoa.social import search_text
from stoa.social.timelines import hidden_accounts
from stoa.social.views import StatusView, ordered
from stoa.social.visibility import can_see
from stoa.store.database import Connection
from stoa.store.schema import accounts, status_search, statuses, tags


@dataclass
class Results:
    accounts: list[Any] = field(default_factory=list)
    hashtags: list[Any] = field(default_factory=list)
    statuses: list[StatusView] = field(default_factory=list)


def _like_prefix(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def search(ctx: Context, viewer_id: int | None, q: str, kind: str | None, limit: int,
                 offset: int, account_id: int | None = None) -> Results:
    results = Results()
    q = q.strip()
    if not q:
        return results
    async with ctx.db.read() as conn:
        if kind in (None, "accounts"):
            results.accounts = await _accounts(conn, q, limit, offset)
        if kind in (None, "hashtags"):
            results.hashtags = await _hashtags(conn, q, limit, offset)
        if kind in (None, "statuses"):
            results.statuses = await _statuses(conn, viewer_id, q, limit, offset, account_id)
    return results


async def _accounts(conn: Connection, q: str, limit: int, offset: int) -> list[Any]:
    name = q.lstrip("@").split("@", 1)[0].lower()
    if not name:
        return []
    pattern = _like_prefix(name)
    query = (select(accounts).where(accounts.c.suspended_at.is_(None), or_(
        accounts.c.username_lower.like(pattern, escape="\\"),
        func.lower(accounts.c.display_name).like(pattern, escape="\\")))
        .order_by((accounts.c.username_lower == name).desc(), accounts.c.followers_count.desc())
        .limit(limit).offset(offset))
    return list((await conn.execute(query)).all())


async def _hashtags(conn: Connection, q: str, limit: int, offset: int) -> list[Any]:
    name = q.lstrip("#").lower()
    if not name:
        return []
    query = (select(tags).where(tags.c.name_lower.like(_like_prefix(name), escape="\\"))
             .order_by((tags.c.name_lower == name).desc(), tags.c.name_lower).limit(limit).offset(offset))
    return list((await conn.execute(query)).all())


async def _statuses(conn: Connection, viewer_id: int | None, q: str, limit: int, offset: int,
                    account_id: int | None) -> list[StatusView]:
    if conn.dialect.name == "sqlite":
        match = search_text.fts5_query(q)
        if match is None:
            return []
        matching: Any = select(literal_column("rowid")).select_from(text("status_fts")).where(
            text("status_fts MATCH :match").bindparams(match=match))
    else:
        tsq = search_text.tsquery(q)
        if tsq is None:
            return []
        matching = select(status_search.c.status_id).where(
            func.to_tsvector(literal_column("'simple'"), status_search.c.document).op("@@")(
                func.to_tsquery(literal_column("'simple'"), tsq)))
    query = (select(statuses).where(statuses.c.id.in_(matching), statuses.c.deleted_at.is_(None),
                                    statuses.c.reblog_of_id.is_(None),
                                    statuses.c.visibility.in_(["public", "unlisted", "private", "direct"]))
             .order_by(statuses.c.id.desc()))
    if account_id is not None:
        query = query.where(statuses.c.account_id == account_id)
    hidden = await hidden_accounts(conn, viewer_id)
    if hidden:
        query = query.where(statuses.c.account_id.not_in(hidden))
    found: list[int] = []
    skipped = 0
    # Walk matches newest first, keeping only what the viewer may see.
    for row in await conn.execute(query.limit((offset + limit) * 4 + 40)):
        if not await can_see(conn, viewer_id, row):
            continue
        if skipped < offset:
            skipped += 1
            continue
        found.append(int(row.id))
        if len(found) >= limit:
            break
    return await ordered(conn, viewer_id, found)
