"""Read models: everything needed to show posts and accounts, loaded in a few batch queries.

Timelines return ids; these functions turn ids into ``StatusView`` objects
(post + author + boosted post + mentions + tags + what the viewer did with
it) with a fixed number of queries however long the page is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, any_, bindparam, cast, exists, literal, null, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY

from stoa.core.context import Context
from stoa.core.errors import NotFound
from stoa.social.rows import AccountRow, StatusRow
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
    mutes,
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
            select(literal("f").label("kind"), favourites.c.status_id.label("sid"),
                   cast(null(), mutes.c.expires_at.type).label("expires")).where(
                favourites.c.account_id == viewer, among(favourites.c.status_id)),
            select(literal("b"), bookmarks.c.status_id, null()).where(bookmarks.c.account_id == viewer,
                                                                      among(bookmarks.c.status_id)),
            select(literal("r"), statuses.c.reblog_of_id, null()).where(
                statuses.c.account_id == viewer, among(statuses.c.reblog_of_id), statuses.c.deleted_at.is_(None)),
            select(literal("p"), pins.c.status_id, null()).where(pins.c.account_id == viewer, among(pins.c.status_id)),
            # What the visibility rule needs about the page's authors, in the same round trip (``sid``
            # holds an account id in these rows): blocks either way; whom the viewer follows, asked only
            # about the authors of followers-only posts; and mutes, which timelines that hide muted
            # accounts would otherwise ask for in a query of their own.
            select(literal("x"), blocks.c.target_account_id, null()).where(
                blocks.c.account_id == viewer, among(blocks.c.target_account_id, "authors")),
            select(literal("x"), blocks.c.account_id, null()).where(
                blocks.c.target_account_id == viewer, among(blocks.c.account_id, "authors")),
            select(literal("o"), follows.c.target_account_id, null()).where(
                follows.c.account_id == viewer, among(follows.c.target_account_id, "followers_only_authors")),
            select(literal("u"), mutes.c.target_account_id, mutes.c.expires_at).where(
                mutes.c.account_id == viewer, among(mutes.c.target_account_id, "authors")),
        ),
    )


_STATEMENTS = {"postgresql": _build(array_ids=True), "sqlite": _build(array_ids=False)}


def _statements(conn: Connection) -> _Statements:
    return _STATEMENTS[conn.dialect.name]


@dataclass
class StatusView:
    row: StatusRow
    account: AccountRow
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


async def load_statuses(conn: Connection, viewer_id: int | None, ids: list[int], *,
                        hide_muted: bool = False) -> dict[int, StatusView]:
    """Views for ``ids`` that the viewer may see (deleted, missing and hidden ones are left out), in
    at most five queries whatever the page size. ``hide_muted`` also leaves out posts and boosts by
    accounts the viewer mutes, as the home timeline does."""
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

    facts = _ViewerFacts()
    if viewer_id is not None and views:
        facts = await _mark_viewer_state(conn, viewer_id, views)
    # Who a post mentions matters only to followers-only and direct posts: not built for the others.
    visible = {sid for sid, view in views.items()
               if may_see(viewer_id, view.row, view.account,
                          () if view.row.visibility in OPEN else {int(m.id) for m in view.mentions},
                          facts.blocked, facts.followed)
               and not (hide_muted and int(view.row.account_id) in facts.muted)}

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


def mute_in_force(expires: Any, now: datetime) -> bool:
    """Whether a mute with this expiry still holds (SQLite returns a UNION's datetimes as text)."""
    if expires is None:
        return True
    if isinstance(expires, str):
        expires = datetime.fromisoformat(expires)
    return bool((expires if expires.tzinfo else expires.replace(tzinfo=UTC)) > now)


@dataclass(frozen=True)
class _ViewerFacts:
    """What the visibility rule and the mute filter need to know about the page's authors."""

    blocked: set[int] = field(default_factory=set)  # blocking or blocked by the viewer
    followed: set[int] = field(default_factory=set)  # followed by the viewer (authors of followers-only posts)
    muted: set[int] = field(default_factory=set)  # muted by the viewer, mutes in force


async def _mark_viewer_state(conn: Connection, viewer_id: int, views: dict[int, StatusView]) -> _ViewerFacts:
    """What the viewer did with each post (favourited, bookmarked, boosted, pinned), in one query that
    also returns what the viewer's relationships with the page's authors are."""
    marked: dict[str, set[int]] = {"f": set(), "b": set(), "r": set(), "p": set(), "x": set(), "o": set(), "u": set()}
    authors = {int(v.row.account_id) for v in views.values()} - {viewer_id}
    followers_only = {int(v.row.account_id) for v in views.values() if v.row.visibility == "private"} - {viewer_id}
    now = datetime.now(UTC)
    for row in await conn.execute(_statements(conn).viewer_state,
                                  {"viewer": viewer_id, "ids": list(views), "authors": list(authors),
                                   "followers_only_authors": list(followers_only)}):
        if row.kind != "u" or mute_in_force(row.expires, now):
            marked[row.kind].add(int(row.sid))
    for sid, view in views.items():
        view.favourited = sid in marked["f"]
        view.bookmarked = sid in marked["b"]
        view.reblogged = sid in marked["r"]
        if view.row.account_id == viewer_id:
            view.pinned = sid in marked["p"]
    return _ViewerFacts(blocked=marked["x"], followed=marked["o"], muted=marked["u"])


async def ordered(conn: Connection, viewer_id: int | None, ids: list[int], *,
                  hide_muted: bool = False) -> list[StatusView]:
    loaded = await load_statuses(conn, viewer_id, ids, hide_muted=hide_muted)
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
