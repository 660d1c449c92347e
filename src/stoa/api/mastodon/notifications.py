"""/api/v1/notifications."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from stoa.api.deps import Auth, get_ctx, get_params, require
from stoa.api.mastodon import serializers as ser
from stoa.api.mastodon.entities import Empty, Notification, NotificationType
from stoa.api.openapi import AccountPage, NumericId, doc
from stoa.api.pagination import paginated
from stoa.api.params import Params, parse_id
from stoa.api.responses import JSON
from stoa.core.context import Context
from stoa.social import notifications

router = APIRouter()


class NotificationsQuery(AccountPage):
    types: list[NotificationType] | None = Field(None, max_length=20, description="Only these types")
    exclude_types: list[NotificationType] | None = Field(None, max_length=20, description="All but these types")
    account_id: NumericId | None = Field(None, description="Only those from this account")


@router.get("/api/v1/notifications", **doc(list[Notification], query=NotificationsQuery))
async def list_notifications(request: Request, auth: Auth = Depends(require("read:notifications")),
                             ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    page = params.page(40, 80)
    views = await notifications.list_notifications(
        ctx, auth.user, page, types=params.items("types", 20), exclude_types=params.items("exclude_types", 20),
        from_account_id=params.id("account_id"))
    return paginated(request, [ser.notification(v, ctx.base_url, ctx.domain, ctx.media_urls) for v in views],
                     [int(v.row.id) for v in views], ctx.base_url)


@router.post("/api/v1/notifications/clear", **doc(Empty))
async def clear(auth: Auth = Depends(require("write:notifications")), ctx: Context = Depends(get_ctx)) -> JSON:
    await notifications.clear(ctx, auth.user)
    return JSON({})


@router.get("/api/v1/notifications/{notification_id}", **doc(Notification))
async def get_notification(notification_id: str, auth: Auth = Depends(require("read:notifications")),
                           ctx: Context = Depends(get_ctx)) -> JSON:
    view = await notifications.get_notification(ctx, auth.user, parse_id(notification_id))
    return JSON(ser.notification(view, ctx.base_url, ctx.domain, ctx.media_urls))


@router.post("/api/v1/notifications/{notification_id}/dismiss", **doc(Empty))
async def dismiss(notification_id: str, auth: Auth = Depends(require("write:notifications")),
                  ctx: Context = Depends(get_ctx)) -> JSON:
    await notifications.dismiss(ctx, auth.user, parse_id(notification_id))
    return JSON({})
