"""/api/v1/statuses: posting, editing, deleting, and every action on a post."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from stoa.api.deps import Auth, get_ctx, get_params, optional_auth, require, viewer
from stoa.api.mastodon import serializers as ser
from stoa.api.mastodon.accounts import accounts_page
from stoa.api.mastodon.entities import Account, Status, StatusEdit, StatusSource, Visibility
from stoa.api.mastodon.entities import Context as ThreadContext
from stoa.api.openapi import AccountPage, Flag, NumericId, Page, doc
from stoa.api.pagination import paginated
from stoa.api.params import Params, parse_id
from stoa.api.responses import JSON
from stoa.core.context import Context
from stoa.core.errors import ValidationFailed
from stoa.social import interactions, statuses, threads, timelines
from stoa.social.views import StatusView, listed_accounts, visible_status, visible_statuses
from stoa.store import ids

router = APIRouter()


class EditForm(BaseModel):
    status: str | None = Field(None, description="The text (Stoa counts at most max_characters)")
    spoiler_text: str | None = Field(None, description="A content warning")
    sensitive: Flag | None = None
    language: str | None = Field(None, max_length=16, description="ISO 639 code")
    media_ids: list[NumericId] | None = Field(None, max_length=4, description="Up to 4 images or 1 video")


class PostForm(EditForm):
    visibility: Visibility | None = None
    in_reply_to_id: NumericId | None = None


class ReblogForm(BaseModel):
    visibility: Visibility | None = None


class IdsQuery(BaseModel):
    id: list[NumericId] | None = Field(None, max_length=40,
                                       description="The posts wanted (unknown or invisible ones are left out)")


def status_json(ctx: Context, view: StatusView) -> dict[str, Any]:
    return ser.status(view, ctx.base_url, ctx.domain, ctx.media_urls)


def statuses_page(request: Request, ctx: Context, views: list[StatusView]) -> JSON:
    return paginated(request, [status_json(ctx, v) for v in views], [int(v.row.id) for v in views], ctx.base_url)


async def render_one(ctx: Context, viewer_id: int | None, status_id: int) -> JSON:
    return JSON(status_json(ctx, await visible_status(ctx, viewer_id, status_id)))


def _draft_fields(params: Params, ctx: Context) -> dict[str, Any]:
    if params.raw("poll") is not None:
        raise ValidationFailed("Polls are not supported yet on this server")
    if params.raw("scheduled_at"):
        raise ValidationFailed("Scheduled posts are not supported yet on this server")
    return {
        "text": params.text("status", "", ctx.settings.max_status_chars * 4) or "",
        "spoiler_text": params.text("spoiler_text", "", ctx.settings.max_status_chars) or "",
        "sensitive": params.flag("sensitive"),
        "language": (params.text("language", None, 16) or None),
        "media_ids": params.items("media_ids", max_items=4),
    }


@router.post("/api/v1/statuses", **doc(Status, body=PostForm,
                                       headers={"Idempotency-Key": "Posting twice with one key posts once"}))
async def create(request: Request, auth: Auth = Depends(require("write:statuses")),
                 ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    fields = _draft_fields(params, ctx)
    reply_to = params.raw("in_reply_to_id")
    draft = statuses.Draft(
        **fields,
        visibility=params.text("visibility", None, 16) or None,
        in_reply_to_id=parse_reply_id(reply_to),
        idempotency_key=request.headers.get("idempotency-key"),
        app_id=auth.app_id,
    )
    status_id = await statuses.post_status(ctx, auth.user, draft)
    return await render_one(ctx, auth.user, status_id)


def parse_reply_id(raw: Any) -> int | None:
    if raw is None or raw == "":
        return None
    number = ids.parse(raw)
    if number is None:
        raise ValidationFailed("The post you are replying to does not exist or is not visible")
    return number


@router.get("/api/v1/statuses", **doc(list[Status], query=IdsQuery))
async def get_many(auth: Auth | None = Depends(optional_auth), ctx: Context = Depends(get_ctx),
                   params: Params = Depends(get_params)) -> JSON:
    wanted = [n for n in (ids.parse(i) for i in params.items("id", max_items=40)) if n is not None]
    return JSON([status_json(ctx, v) for v in await visible_statuses(ctx, viewer(auth), wanted)])


@router.get("/api/v1/statuses/{status_id}", **doc(Status))
async def get_one(status_id: str, auth: Auth | None = Depends(optional_auth),
                  ctx: Context = Depends(get_ctx)) -> JSON:
    return await render_one(ctx, viewer(auth), parse_id(status_id))


@router.delete("/api/v1/statuses/{status_id}", **doc(Status))
async def delete(status_id: str, auth: Auth = Depends(require("write:statuses")),
                 ctx: Context = Depends(get_ctx)) -> JSON:
    sid = parse_id(status_id)
    view = await visible_status(ctx, auth.user, sid)  # rendered as it was, for "delete and redraft"
    row = await statuses.delete_status(ctx, auth.user, sid)
    data = status_json(ctx, view)
    data["text"] = row.text
    return JSON(data)


@router.put("/api/v1/statuses/{status_id}", **doc(Status, body=EditForm))
async def edit(status_id: str, auth: Auth = Depends(require("write:statuses")), ctx: Context = Depends(get_ctx),
               params: Params = Depends(get_params)) -> JSON:
    sid = parse_id(status_id)
    fields = _draft_fields(params, ctx)
    await statuses.edit_status(ctx, auth.user, sid, fields["text"], params.text("spoiler_text", None, 500),
                               fields["sensitive"], fields["language"], fields["media_ids"])
    return await render_one(ctx, auth.user, sid)


@router.get("/api/v1/statuses/{status_id}/history", **doc(list[StatusEdit]))
async def history(status_id: str, auth: Auth | None = Depends(optional_auth),
                  ctx: Context = Depends(get_ctx)) -> JSON:
    sid = parse_id(status_id)
    versions = await threads.history(ctx, viewer(auth), sid)
    authors = await listed_accounts(ctx, {int(v.account_id) for v in versions})
    return JSON([ser.status_edit(v, ser.account(authors[int(v.account_id)], ctx.base_url, ctx.domain))
                 for v in versions])


@router.get("/api/v1/statuses/{status_id}/source", **doc(StatusSource))
async def source(status_id: str, auth: Auth = Depends(require("read:statuses")),
                 ctx: Context = Depends(get_ctx)) -> JSON:
    row = await threads.source(ctx, auth.user, parse_id(status_id))
    return JSON({"id": str(row.id), "text": row.text, "spoiler_text": row.spoiler_text})


@router.get("/api/v1/statuses/{status_id}/context", **doc(ThreadContext))
async def thread(status_id: str, auth: Auth | None = Depends(optional_auth),
                 ctx: Context = Depends(get_ctx)) -> JSON:
    found = await threads.context(ctx, viewer(auth), parse_id(status_id))
    ancestors = await visible_statuses(ctx, viewer(auth), found.ancestors)
    descendants = await visible_statuses(ctx, viewer(auth), found.descendants)
    return JSON({"ancestors": [status_json(ctx, v) for v in ancestors],
                 "descendants": [status_json(ctx, v) for v in descendants]})


@router.post("/api/v1/statuses/{status_id}/reblog", **doc(Status, body=ReblogForm))
async def reblog(status_id: str, auth: Auth = Depends(require("write:statuses")), ctx: Context = Depends(get_ctx),
                 params: Params = Depends(get_params)) -> JSON:
    boost_id = await interactions.reblog(ctx, auth.user, parse_id(status_id), params.text("visibility", None, 16))
    return await render_one(ctx, auth.user, int(boost_id))


@router.post("/api/v1/statuses/{status_id}/unreblog", **doc(Status))
async def unreblog(status_id: str, auth: Auth = Depends(require("write:statuses")),
                   ctx: Context = Depends(get_ctx)) -> JSON:
    original = await interactions.unreblog(ctx, auth.user, parse_id(status_id))
    return await render_one(ctx, auth.user, original)


@router.post("/api/v1/statuses/{status_id}/favourite", **doc(Status))
async def favourite(status_id: str, auth: Auth = Depends(require("write:favourites")),
                    ctx: Context = Depends(get_ctx)) -> JSON:
    target = await interactions.favourite(ctx, auth.user, parse_id(status_id))
    return await render_one(ctx, auth.user, target)


@router.post("/api/v1/statuses/{status_id}/unfavourite", **doc(Status))
async def unfavourite(status_id: str, auth: Auth = Depends(require("write:favourites")),
                      ctx: Context = Depends(get_ctx)) -> JSON:
    target = await interactions.unfavourite(ctx, auth.user, parse_id(status_id))
    return await render_one(ctx, auth.user, target)


@router.post("/api/v1/statuses/{status_id}/bookmark", **doc(Status))
async def bookmark(status_id: str, auth: Auth = Depends(require("write:bookmarks")),
                   ctx: Context = Depends(get_ctx)) -> JSON:
    target = await interactions.set_bookmark(ctx, auth.user, parse_id(status_id), True)
    return await render_one(ctx, auth.user, target)


@router.post("/api/v1/statuses/{status_id}/unbookmark", **doc(Status))
async def unbookmark(status_id: str, auth: Auth = Depends(require("write:bookmarks")),
                     ctx: Context = Depends(get_ctx)) -> JSON:
    target = await interactions.set_bookmark(ctx, auth.user, parse_id(status_id), False)
    return await render_one(ctx, auth.user, target)


@router.post("/api/v1/statuses/{status_id}/pin", **doc(Status))
async def pin(status_id: str, auth: Auth = Depends(require("write:accounts")),
              ctx: Context = Depends(get_ctx)) -> JSON:
    target = await interactions.set_pin(ctx, auth.user, parse_id(status_id), True)
    return await render_one(ctx, auth.user, target)


@router.post("/api/v1/statuses/{status_id}/unpin", **doc(Status))
async def unpin(status_id: str, auth: Auth = Depends(require("write:accounts")),
                ctx: Context = Depends(get_ctx)) -> JSON:
    target = await interactions.set_pin(ctx, auth.user, parse_id(status_id), False)
    return await render_one(ctx, auth.user, target)


@router.get("/api/v1/statuses/{status_id}/favourited_by", **doc(list[Account], query=AccountPage))
async def favourited_by(request: Request, status_id: str, auth: Auth | None = Depends(optional_auth),
                        ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    page = params.page(40, 80)
    pairs = await threads.interacting_accounts(ctx, viewer(auth), parse_id(status_id), "favourited_by", page)
    return await accounts_page(request, ctx, pairs)


@router.get("/api/v1/statuses/{status_id}/reblogged_by", **doc(list[Account], query=AccountPage))
async def reblogged_by(request: Request, status_id: str, auth: Auth | None = Depends(optional_auth),
                       ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    page = params.page(40, 80)
    pairs = await threads.interacting_accounts(ctx, viewer(auth), parse_id(status_id), "reblogged_by", page)
    return await accounts_page(request, ctx, pairs)


@router.get("/api/v1/favourites", **doc(list[Status], query=Page))
async def list_favourites(request: Request, auth: Auth = Depends(require("read:favourites")),
                          ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    pairs = await timelines.favourites_of(ctx, auth.user, params.page())
    return paginated(request, [status_json(ctx, v) for _, v in pairs], [p for p, _ in pairs], ctx.base_url)


@router.get("/api/v1/bookmarks", **doc(list[Status], query=Page))
async def list_bookmarks(request: Request, auth: Auth = Depends(require("read:bookmarks")),
                         ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    pairs = await timelines.bookmarks_of(ctx, auth.user, params.page())
    return paginated(request, [status_json(ctx, v) for _, v in pairs], [p for p, _ in pairs], ctx.base_url)
