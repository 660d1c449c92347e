"""Mastodon's discovery endpoints: trending posts (`/api/v1/trends/statuses`) and whom to follow
(`/api/v2/suggestions`, which Mastodon apps show at sign-up)."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from stoa.api.deps import Auth, get_ctx, get_params, optional_auth, require
from stoa.api.mastodon.accounts import account_json
from stoa.api.mastodon.entities import Account, Empty, Status, Suggestion
from stoa.api.mastodon.statuses import status_json
from stoa.api.openapi import doc
from stoa.api.params import Params, parse_id
from stoa.api.responses import JSON
from stoa.core.context import Context
from stoa.feeds import suggestions, trending
from stoa.social.views import listed_accounts

router = APIRouter()
MAX_TRENDS = 40


class TrendsQuery(BaseModel):
    limit: int | None = Field(None, ge=1, le=MAX_TRENDS, description="Default 20; values outside are clamped")
    offset: int | None = Field(None, ge=0, le=MAX_TRENDS)


class SuggestionsQuery(BaseModel):
    limit: int | None = Field(None, ge=1, le=suggestions.MAX_LIMIT,
                              description="Default 40; values outside are clamped")


def _languages(request: Request) -> set[str]:
    """An anonymous reader's languages, from Accept-Language (the first three), else English."""
    header = request.headers.get("accept-language", "")
    found = [part.split(";")[0].strip().split("-")[0].lower() for part in header.split(",")]
    return {lang for lang in found[:3] if lang.isalpha() and len(lang) <= 8} or {"en"}


@router.get("/api/v1/trends/statuses", **doc(list[Status], query=TrendsQuery))
async def trending_statuses(request: Request, auth: Auth | None = Depends(optional_auth),
                            ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    """The most engaged-with public posts of the last two days in the reader's languages."""
    limit = params.integer("limit", 20, minimum=1, maximum=MAX_TRENDS) or 20
    offset = params.integer("offset", 0, minimum=0, maximum=MAX_TRENDS) or 0
    views, more = await trending.trending_statuses(ctx, auth.account_id if auth else None, _languages(request),
                                                   offset=offset, limit=limit, depth=MAX_TRENDS)
    response = JSON([status_json(ctx, v) for v in views])
    if more:
        query = urlencode([*((k, v) for k, v in request.query_params.multi_items() if k != "offset"),
                           ("offset", offset + limit)])
        response.headers["Link"] = f'<{ctx.base_url}{request.url.path}?{query}>; rel="next"'
    return response


async def _suggested(ctx: Context, viewer: int, params: Params) -> list[tuple[list[str], dict[str, object]]]:
    limit = params.integer("limit", 40, minimum=1, maximum=suggestions.MAX_LIMIT) or 40
    found = await suggestions.suggestions(ctx, viewer, limit)
    rows = await listed_accounts(ctx, {s.account_id for s in found})
    return [(s.sources, account_json(ctx, rows[s.account_id])) for s in found if s.account_id in rows]


@router.get("/api/v2/suggestions", **doc(list[Suggestion], query=SuggestionsQuery))
async def follow_suggestions(auth: Auth = Depends(require("read")), ctx: Context = Depends(get_ctx),
                             params: Params = Depends(get_params)) -> JSON:
    return JSON([{"source": "global", "sources": sources, "account": account}
                 for sources, account in await _suggested(ctx, auth.user, params)])


@router.get("/api/v1/suggestions", **doc(list[Account], query=SuggestionsQuery))
async def follow_suggestions_v1(auth: Auth = Depends(require("read")), ctx: Context = Depends(get_ctx),
                                params: Params = Depends(get_params)) -> JSON:
    """The older form: accounts only."""
    return JSON([account for _, account in await _suggested(ctx, auth.user, params)])


@router.delete("/api/v1/suggestions/{account_id}", **doc(Empty))
async def dismiss_suggestion(account_id: str, auth: Auth = Depends(require("read")),
                             ctx: Context = Depends(get_ctx)) -> JSON:
    await suggestions.dismiss(ctx, auth.user, parse_id(account_id))
    return JSON({})
