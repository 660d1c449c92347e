"""/api/v1/timelines: home, public, hashtag."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from stoa.api.deps import Auth, get_ctx, get_params, optional_auth, require, viewer
from stoa.api.mastodon.entities import Status
from stoa.api.mastodon.statuses import statuses_page
from stoa.api.openapi import Flag, Page, doc
from stoa.api.params import Params
from stoa.api.responses import JSON
from stoa.core.context import Context
from stoa.social import timelines

router = APIRouter()


class PublicQuery(Page):
    local: Flag | None = Field(None, description="Only posts from this server")
    remote: Flag | None = Field(None, description="Only posts from other servers")


class TagQuery(Page):
    local: Flag | None = Field(None, description="Only posts from this server")
    any: list[str] | None = Field(None, max_length=10, description="Posts with any of these hashtags as well")


@router.get("/api/v1/timelines/home", **doc(list[Status], query=Page))
async def home(request: Request, auth: Auth = Depends(require("read:statuses")), ctx: Context = Depends(get_ctx),
               params: Params = Depends(get_params)) -> JSON:
    return statuses_page(request, ctx, await timelines.home(ctx, auth.user, params.page()))


@router.get("/api/v1/timelines/public", **doc(list[Status], query=PublicQuery))
async def public(request: Request, auth: Auth | None = Depends(optional_auth), ctx: Context = Depends(get_ctx),
                 params: Params = Depends(get_params)) -> JSON:
    views = await timelines.public(ctx, viewer(auth), params.page(), local=bool(params.flag("local", False)),
                                   remote=bool(params.flag("remote", False)))
    return statuses_page(request, ctx, views)


@router.get("/api/v1/timelines/tag/{hashtag}", **doc(list[Status], query=TagQuery))
async def tag(request: Request, hashtag: str, auth: Auth | None = Depends(optional_auth),
              ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    views = await timelines.hashtag(ctx, viewer(auth), hashtag.lstrip("#")[:100], params.page(),
                                    local=bool(params.flag("local", False)), any_tags=params.items("any", 10))
    return statuses_page(request, ctx, views)
