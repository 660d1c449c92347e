"""/api/v1/timelines/for_you (Mastodon Status entities) and /api/v1/stoa/feeds/for_you/explain/{id}."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from stoa.api.deps import Auth, get_ctx, get_params, require
from stoa.api.mastodon.entities import Explanation, Recorded, Signals, Status
from stoa.api.mastodon.statuses import status_json
from stoa.api.openapi import Flag, NumericId, doc
from stoa.api.params import Params, parse_id
from stoa.api.responses import JSON
from stoa.core.context import Context
from stoa.core.errors import ValidationFailed
from stoa.feeds import controls, explanations, viewing
from stoa.feeds import for_you as feed

router = APIRouter()

Mode = Literal["personalised", "none"]


class ForYouQuery(BaseModel):
    limit: int | None = Field(None, ge=1, le=feed.PAGE_LIMIT, description="Default 20; values outside are clamped")
    offset: int | None = Field(None, ge=0, le=10_000)
    max_id: NumericId | None = Field(None, description="Continue after this post (the Link header's next page)")
    mode: Mode | None = Field(None, description="none: the same feed for everyone, no profiling")


class ExplainQuery(BaseModel):
    mode: Mode | None = None


class LessForm(BaseModel):
    status_id: NumericId | None = None
    account_id: NumericId | None = None
    tag: str | None = Field(None, max_length=100)


class LabelForm(BaseModel):
    label: str = Field(max_length=40)
    action: Literal["hide", "show"]


class ViewForm(BaseModel):
    status_id: NumericId
    watched_ms: int | None = Field(None, ge=0, le=viewing.MAX_WATCH_MS, description="Time on screen or played")
    skipped: Flag | None = Field(None, description="Scrolled past at once")


def _personalised(params: Params) -> bool:
    mode = params.text("mode", "personalised", 20)
    if mode not in ("personalised", "none"):
        raise ValidationFailed("mode must be personalised or none (no profiling)")
    return mode == "personalised"


@router.get("/api/v1/timelines/for_you", **doc(list[Status], query=ForYouQuery))
async def for_you(request: Request, auth: Auth = Depends(require("read:statuses")), ctx: Context = Depends(get_ctx),
                  params: Params = Depends(get_params)) -> JSON:
    """The ranked feed. Paging as on any Mastodon timeline: ``max_id`` continues after that post (the
    ``Link`` header's next page names the last post served); ``offset`` pages by position."""
    limit = params.integer("limit", 20, minimum=1, maximum=feed.PAGE_LIMIT) or 20
    offset = params.integer("offset", 0, minimum=0, maximum=10_000) or 0
    views = await feed.for_you(ctx, auth.user, offset, limit, _personalised(params), after=params.id("max_id"))
    response = JSON([status_json(ctx, v) for v in views])
    if len(views) == limit:
        query = urlencode([*((k, v) for k, v in request.query_params.multi_items() if k not in ("offset", "max_id")),
                           ("max_id", views[-1].row.id)])
        response.headers["Link"] = f'<{ctx.base_url}{request.url.path}?{query}>; rel="next"'
    return response


@router.get("/api/v1/stoa/feeds/for_you/explain/{status_id}", **doc(Explanation, query=ExplainQuery))
async def explain(status_id: str, auth: Auth = Depends(require("read:statuses")), ctx: Context = Depends(get_ctx),
                  params: Params = Depends(get_params)) -> JSON:
    return JSON(await explanations.explain(ctx, auth.user, parse_id(status_id), _personalised(params)))


@router.post("/api/v1/stoa/feeds/for_you/less", **doc(Signals, body=LessForm, errors=(404,)))
async def show_less(auth: Auth = Depends(require("write:accounts")), ctx: Context = Depends(get_ctx),
                    params: Params = Depends(get_params)) -> JSON:
    """"Show less like this": one of status_id, account_id or tag."""
    await controls.show_less(ctx, auth.user, status_id=params.id("status_id"), account_id=params.id("account_id"),
                         tag=params.text("tag", None, 100))
    return JSON(await controls.stored_signals(ctx, auth.user))


@router.post("/api/v1/stoa/feeds/for_you/labels", **doc(Signals, body=LabelForm))
async def label(auth: Auth = Depends(require("write:accounts")), ctx: Context = Depends(get_ctx),
                params: Params = Depends(get_params)) -> JSON:
    """What For You does with posts carrying a label: `label`, `action` (hide or show)."""
    action = params.text("action", None, 10)
    if action not in ("hide", "show"):
        raise ValidationFailed("action must be hide or show")
    await controls.set_label(ctx, auth.user, params.text("label", "", 40) or "", action == "hide")
    return JSON(await controls.stored_signals(ctx, auth.user))


@router.post("/api/v1/stoa/feeds/views", **doc(Recorded, body=ViewForm, errors=(404,)))
async def record_view(auth: Auth = Depends(require("write:statuses")), ctx: Context = Depends(get_ctx),
                      params: Params = Depends(get_params)) -> JSON:
    """A post was seen: `status_id`, `watched_ms` (time on screen or played), `skipped` (scrolled past)."""
    status_id = params.id("status_id")
    if status_id is None:
        raise ValidationFailed("status_id is required")
    await viewing.record_view(ctx, auth.user, status_id,
                           params.integer("watched_ms", 0, minimum=0, maximum=viewing.MAX_WATCH_MS) or 0,
                           bool(params.flag("skipped", False)))
    return JSON({"recorded": True})


@router.get("/api/v1/stoa/feeds/for_you/signals", **doc(Signals))
async def signals(auth: Auth = Depends(require("read:accounts")), ctx: Context = Depends(get_ctx)) -> JSON:
    return JSON(await controls.stored_signals(ctx, auth.user))


@router.post("/api/v1/stoa/feeds/for_you/reset", **doc(Signals))
async def reset(auth: Auth = Depends(require("write:accounts")), ctx: Context = Depends(get_ctx)) -> JSON:
    await controls.reset_history(ctx, auth.user)
    return JSON(await controls.stored_signals(ctx, auth.user))
