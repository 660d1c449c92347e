"""/api/v1/stoa/account/export and /erase: a person downloads all their data or erases their account."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import Response

from stoa.api.deps import Auth, get_ctx, get_params, require
from stoa.api.mastodon.entities import Erased
from stoa.api.openapi import doc
from stoa.api.params import Params
from stoa.api.responses import JSON
from stoa.core.context import Context
from stoa.residency.account_data import erase_account, export_archive
from stoa.residency.transparency import TransparencyLog

router = APIRouter()
ZIP = {"application/zip": {"schema": {"type": "string", "format": "binary", "description": "stoa-export-v1"}}}


class PasswordForm(BaseModel):
    password: str = Field(max_length=1024, description="The account's password, asked again")


def _home_log(request: Request, ctx: Context) -> TransparencyLog:
    logs: dict[str, TransparencyLog] = request.app.state.transparency
    return logs[ctx.store.default_region]


@router.post("/api/v1/stoa/account/export", **doc(content=ZIP, body=PasswordForm))
async def export(request: Request, auth: Auth = Depends(require("write:accounts")), ctx: Context = Depends(get_ctx),
                 params: Params = Depends(get_params)) -> Response:
    # Everything about a person in one download: a leaked read-only token must not be enough, so as for
    # erasure, a token that may change the account and the password, checked again.
    archive = await export_archive(ctx, _home_log(request, ctx), auth.user, params.required_str("password", 1024))
    return Response(archive, media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="stoa-export-{auth.user}.zip"'})


@router.post("/api/v1/stoa/account/erase", **doc(Erased, body=PasswordForm))
async def erase(request: Request, auth: Auth = Depends(require("write:accounts")), ctx: Context = Depends(get_ctx),
                params: Params = Depends(get_params)) -> JSON:
    await erase_account(ctx, _home_log(request, ctx), auth.user, params.required_str("password", 1024))
    request.app.state.token_cache.forget_account(auth.user)
    return JSON({"erased": True})
