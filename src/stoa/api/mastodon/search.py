"""/api/v2/search."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from stoa.api.deps import Auth, get_ctx, get_params, optional_auth, viewer
from stoa.api.mastodon import serializers as ser
from stoa.api.mastodon.entities import Search
from stoa.api.openapi import NumericId, doc
from stoa.api.params import Params
from stoa.api.responses import JSON
from stoa.core.context import Context
from stoa.core.errors import ValidationFailed
from stoa.social.search import search

router = APIRouter()


class SearchQuery(BaseModel):
    q: str = Field(max_length=500)
    type: Literal["accounts", "hashtags", "statuses"] | None = None
    limit: int | None = Field(None, ge=1, le=40, description="Default 20; values outside the range are clamped")
    offset: int | None = Field(None, ge=0, le=10_000, description="Needs an access token")
    account_id: NumericId | None = Field(None, description="Only posts by this account")
KINDS = {"accounts", "hashtags", "statuses"}


@router.get("/api/v2/search", **doc(Search, query=SearchQuery))
async def search_v2(auth: Auth | None = Depends(optional_auth), ctx: Context = Depends(get_ctx),
                    params: Params = Depends(get_params)) -> JSON:
    kind = params.text("type", None, 16) or None
    if kind is not None and kind not in KINDS:
        raise ValidationFailed("type must be accounts, hashtags or statuses")
    offset = params.integer("offset", 0, 0, 10_000) or 0
    if auth is None and offset:
        from stoa.core.errors import Unauthorized

        raise Unauthorized("Search queries with offset require an access token")
    results = await search(ctx, viewer(auth), params.required_str("q", 500), kind,
                           params.integer("limit", 20, 1, 40) or 20, offset, params.id("account_id"))
    return JSON({
        "accounts": [ser.account(a, ctx.base_url, ctx.domain) for a in results.accounts],
        "statuses": [ser.status(v, ctx.base_url, ctx.domain, ctx.media_urls) for v in results.statuses],
        "hashtags": [ser.tag(t, ctx.base_url) for t in results.hashtags],
    })
