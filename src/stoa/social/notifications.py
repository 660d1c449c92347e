"""Notifications: written by the notification consumer, read and dismissed by their owner."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select

from stoa.core.context import Context
from stoa.core.errors import NotFound
from stoa.social.events import NotificationDismissed, NotificationsCleared
from stoa.social.paging import Page
from stoa.social.timelines import hidden_accounts
from stoa.social.views import StatusView, load_accounts, load_statuses
from stoa.store.database import Connection
from stoa.store.events import emit
from stoa.store.schema import notifications

WITH_STATUS = {"mention", "status", "reblog", "favourite", "poll", "update"}


@dataclass
class NotificationView:
    row: Any
    account: Any
    status: StatusView | None


async def _views(conn: Connection, viewer_id: int, rows: list[Any]) -> list[NotificationView]:
    accounts = await load_accounts(conn, {int(r.from_account_id) for r in rows})
    status_views = await load_statuses(conn, viewer_id, [int(r.status_id) for r in rows if r.status_id])
    out = []
    for r in rows:
        account = accounts.get(int(r.from_account_id))
        if account is None or account.suspended_at is not None:
            continue
        status = status_views.get(int(r.status_id)) if r.status_id else None
        if r.type in WITH_STATUS and status is None:
            continue  # the post was deleted
        out.append(NotificationView(r, account, status))
    return out


async def list_notifications(
    ctx: Context, viewer_id: int, page: Page, types: list[str] | None = None,
    exclude_types: list[str] | None = None, from_account_id: int | None = None,
) -> list[NotificationView]:
    async with ctx.db.read() as conn:
        query = select(notifications).where(notifications.c.account_id == viewer_id)
        if types:
            query = query.where(notifications.c.type.in_(types))
        if exclude_types:
            query = query.where(notifications.c.type.not_in(exclude_types))
        if from_account_id is not None:
            query = query.where(notifications.c.from_account_id == from_account_id)
        hidden = await hidden_accounts(conn, viewer_id)
        if hidden:
            query = query.where(notifications.c.from_account_id.not_in(hidden))
        rows = (await conn.execute(page.apply(query, notifications.c.id))).all()
        if page.min_id is not None:
            rows = list(reversed(rows))
        return await _views(conn, viewer_id, rows)


async def get_notification(ctx: Context, viewer_id: int, notification_id: int) -> NotificationView:
    async with ctx.db.read() as conn:
        row = (await conn.execute(select(notifications).where(
            notifications.c.id == notification_id, notifications.c.account_id == viewer_id))).first()
        views = await _views(conn, viewer_id, [row]) if row is not None else []
    if not views:
        raise NotFound()
    return views[0]


async def dismiss(ctx: Context, viewer_id: int, notification_id: int) -> None:
    async with ctx.db.write() as conn:
        dedupe_key = (await conn.execute(delete(notifications).where(
            notifications.c.id == notification_id, notifications.c.account_id == viewer_id)
            .returning(notifications.c.dedupe_key))).scalar()
        if dedupe_key is None:
            raise NotFound()
        await emit(conn, NotificationDismissed(account_id=viewer_id, dedupe_key=dedupe_key))


async def clear(ctx: Context, viewer_id: int) -> None:
    async with ctx.db.write() as conn:
        cleared = await conn.execute(delete(notifications).where(notifications.c.account_id == viewer_id))
        if cleared.rowcount:
            await emit(conn, NotificationsCleared(account_id=viewer_id))
