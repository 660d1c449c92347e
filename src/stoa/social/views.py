"""Read models: everything needed to show posts and accounts, loaded in a few batch queries.

Timelines return ids; these functions turn ids into ``StatusView`` objects
(post + author + boosted post + mentions + tags + what the viewer did with
it) with a fixed number of queries however long the page is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, exists, literal, null, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from stoa.core.context import Context
from stoa.core.errors import NotFound
from stoa.social.visibility import OPEN, may_see
from stoa.store.database import Connection
from stoa.store.schema import (
    accounts,
    apps,
    blocks,
    bookmarks,
    favourites,
    follows,
    media_attachments,
    mentions,
    pins,
    status_tags,
    statuses,
    tags,
)

# Hot-path statements are built once, with bound parameters: SQLAlchemy then reuses their compiled
# form and cache key instead of rebuilding the expression tree on every request. On PostgreSQL an id
# list is one array parameter (`= ANY(:ids)`); SQLite gets an expanded IN list.


@dataclass(frozen=True)
class _Statements:
    load_statuses: Any
    mentions_and_tags: Any
    media: Any
    accounts: Any
    viewer_state: Any


def _build(array_ids: bool) -> _Statements:
    def among(column: Any, name: str = "ids") -> Any:
        if array_ids:
            return column == any_(bindparam(name, type_=ARRAY(BigInteger)))
        return column.in_(bindparam(name, expanding=True))

    page = statuses.alias("page")
    viewer: Any = bindparam("viewer")
    return _Statements(
        load_statuses=select(
            statuses,
            # Whether a post has attachments, answered by an index probe rather than a query per page.
            exists().where(media_attachments.c.status_id == statuses.c.id).label("has_media"),
        ).where(
            # The page's posts and the originals of its boosts. A UNION, not an OR: PostgreSQL answers an
            # OR of two id lists with a sequential scan of every post, but a UNION with two index lookups.
            statuses.c.id.in_(union_all(
                select(page.c.id).where(among(page.c.id)),
                select(page.c.reblog_of_id).where(among(page.c.id), page.c.reblog_of_id.is_not(None)),
            )),
            statuses.c.deleted_at.is_(None),
        ),
        mentions_and_tags=union_all(
            select(literal("m").label("kind"), mentions.c.status_id.label("sid"),
                   mentions.c.account_id.label("aid"), null().label("name")).where(among(mentions.c.status_id)),
            select(literal("t"), status_tags.c.status_id, null(), tags.c.name)
            .join(tags, tags.c.id == status_tags.c.tag_id).where(among(status_tags.c.status_id)),
        ),
        media=select(media_attachments).where(among(media_attachments.c.status_id)).order_by(media_attachments.c.id),
        accounts=select(accounts).where(among(accounts.c.id)),
        viewer_state=union_all(
            select(literal("f").label("kind"), favourites.c.status_id.label("sid")).where(
                favourites.c.account_id == viewer, among(favourites.c.status_id)),
            select(literal("b"), bookmarks.c.status_id).where(bookmarks.c.account_id == viewer,
                                                              among(bookmarks.c.status_id)),
            select(literal("r"), statuses.c.reblog_of_id).where(
                statuses.c.account_id == viewer, among(statuses.c.reblog_of_id), statuses.c.deleted_at.is_(None)),
            select(literal("p"), pins.c.status_id).where(pins.c.account_id == viewer, among(pins.c.status_id)),
            # What the visibility rule needs about the page's authors, in the same round trip: blocks
            # either way, and whom the viewer follows (``sid`` holds an account id in these rows).
            select(literal("x"), blocks.c.target_account_id).where(blocks.c.account_id == viewer,
                                                                   among(blocks.c.target_account_id, "authors")),
            select(literal("x"), blocks.c.account_id).where(blocks.c.target_account_id == viewer,
                                                            among(blocks.c.account_id, "authors")),
            select(literal("o"), follows.c.target_account_id).where(follows.c.account_id == viewer,
                                                                    among(follows.c.target_account_id, "authors")),
        ),
    )


_STATEMENTS = {"postgresql": _build(array_ids=True), "sqlite": _build(array_ids=False)}


def _statements(conn: Connection) -> _Statements:
    return _STATEMENTS[conn.dialect.name]


@dataclass
class StatusView:
    row: Any
    account: Any
    reblog: StatusView | None = None
    mentions: list[Any] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    favourited: bool = False
    reblogged: bool = False
    bookmarked: bool = False
    pinned: bool | None = None
    application: Any = None
    media: list[Any] = field(default_factory=list)


async def load_accounts(conn: Connection, ids: list[int] | set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = await conn.execute(_statements(conn).accounts, {"ids": list(ids)})
    return {int(r.id): r for r in rows}


_app_names: dict[int, Any] = {}  # client apps never change name: cache them for the process


async def _load_apps(conn: Connection, app_ids: set[int]) -> dict[int, Any]:
    missing = app_ids - _app_names.keys()
    if missing:
        for a in await conn.execute(select(apps.c.id, apps.c.name, apps.c.website).where(apps.c.id.in_(missing))):
            if len(_app_names) > 10_000:
                _app_names.clear()
            _app_names[int(a.id)] = a
    return {i: _app_names[i] for i in app_ids if i in _app_names}


async def load_statuses(conn: Connection, viewer_id: int | None, ids: list[int]) -> dict[int, StatusView]:
    """Views for ``ids`` (deleted or missing ones are left out), in four queries whatever the page size."""
    if not ids:
        return {}
    rows = {int(r.id): r for r in await conn.execute(_statements(conn).load_statuses, {"ids": ids})}
    all_ids = list(rows)
    account_ids = {int(r.account_id) for r in rows.values()}
    extra_rows = (await conn.execute(_statements(conn).mentions_and_tags, {"ids": all_ids})).all() if all_ids else []
    mention_rows = [e for e in extra_rows if e.kind == "m"]
    tag_rows = [e for e in extra_rows if e.kind == "t"]
    account_ids.update(int(m.aid) for m in mention_rows)
    account_rows = await load_accounts(conn, account_ids)
    app_rows = await _load_apps(conn, {int(r.app_id) for r in rows.values() if r.app_id is not None})

    views: dict[int, StatusView] = {}
    for sid, r in rows.items():
        author = account_rows.get(int(r.account_id))
        if author is None or author.suspended_at is not None:
            continue
        views[sid] = StatusView(row=r, account=author,
                                application=app_rows.get(int(r.app_id)) if r.app_id is not None else None)
    for m in mention_rows:
        view = views.get(int(m.sid))
        mentioned = account_rows.get(int(m.aid))
        if view is not None and mentioned is not None:
            view.mentions.append(mentioned)
    for t in tag_rows:
        view = views.get(int(t.sid))
        if view is not None:
            view.tags.append(t.name)
    with_media = [sid for sid, r in rows.items() if r.has_media]
    if with_media:
        for media in await conn.execute(_statements(conn).media, {"ids": with_media}):
            view = views.get(int(media.status_id))
            if view is not None:
                view.media.append(media)

    blocked: set[int] = set()
    followed: set[int] = set()
    if viewer_id is not None and views:
        blocked, followed = await _mark_viewer_state(conn, viewer_id, views)
    # Who a post mentions matters only to followers-only and direct posts: not built for the others.
    visible = {sid for sid, view in views.items()
               if may_see(viewer_id, view.row, view.account,
                          () if view.row.visibility in OPEN else {int(m.id) for m in view.mentions}, blocked, followed)}

    result: dict[int, StatusView] = {}
    for sid in ids:
        view = views.get(sid)
        if view is None or sid not in visible:
            continue
        if view.row.reblog_of_id is not None:
            original = views.get(int(view.row.reblog_of_id))
            if original is None or original.row.id not in visible:  # a boost never widens an audience
                continue
            view.reblog = original
        result[sid] = view
    return result


async def _mark_viewer_state(conn: Connection, viewer_id: int,
                             views: dict[int, StatusView]) -> tuple[set[int], set[int]]:
    """What the viewer did with each post (favourited, bookmarked, boosted, pinned), in one query that
    also returns the authors blocked either way and those the viewer follows."""
    marked: dict[str, set[int]] = {"f": set(), "b": set(), "r": set(), "p": set(), "x": set(), "o": set()}
    authors = list({int(v.row.account_id) for v in views.values()} - {viewer_id})
    for row in await conn.execute(_statements(conn).viewer_state,
                                  {"viewer": viewer_id, "ids": list(views), "authors": authors}):
        marked[row.kind].add(int(row.sid))
    for sid, view in views.items():
        view.favourited = sid in marked["f"]
        view.bookmarked = sid in marked["b"]
        view.reblogged = sid in marked["r"]
        if view.row.account_id == viewer_id:
            view.pinned = sid in marked["p"]
    return marked["x"], marked["o"]


async def ordered(conn: Connection, viewer_id: int | None, ids: list[int]) -> list[StatusView]:
    loaded = await load_statuses(conn, viewer_id, ids)
    return [loaded[i] for i in ids if i in loaded]


# What the API layer calls: each opens its own read transaction in the context's home region.

async def visible_statuses(ctx: Context, viewer_id: int | None, ids: list[int]) -> list[StatusView]:
    """The posts among ``ids`` the viewer may see, in the order asked (the others are left out)."""
    async with ctx.db.read() as conn:
        return await ordered(conn, viewer_id, ids)


async def visible_status(ctx: Context, viewer_id: int | None, status_id: int) -> StatusView:
    """One post as the viewer sees it; NotFound alike for a post that is missing, gone or not theirs to see."""
    found = await visible_statuses(ctx, viewer_id, [status_id])
    if not found:
        raise NotFound()
    return found[0]


async def listed_accounts(ctx: Context, ids: list[int] | set[int]) -> dict[int, Any]:
    """Accounts to list (followers, likers, suggestions…): suspended ones are left out."""
    async with ctx.db.read() as conn:
        rows = await load_accounts(conn, ids)
    return {i: r for i, r in rows.items() if r.suspended_at is None}
