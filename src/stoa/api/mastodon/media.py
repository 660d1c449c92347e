"""/api/v1/media and /api/v2/media: upload images, describe them, read them back."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from stoa.api.deps import Auth, get_ctx, get_params, require
from stoa.api.mastodon import serializers as ser
from stoa.api.params import Params, parse_id
from stoa.api.responses import JSON
from stoa.media import attachments
from stoa.social.context import Context
from stoa.social.errors import BadRequest

router = APIRouter()


@router.post("/api/v2/media")
@router.post("/api/v1/media")
async def upload(auth: Auth = Depends(require("write:media")), ctx: Context = Depends(get_ctx),
                 params: Params = Depends(get_params)) -> JSON:
    """Images are processed before the answer, so it is always 200 with a ready attachment."""
    file = params.file("file")
    if file is None:
        raise BadRequest("Missing parameter: file (multipart upload)")
    data = await file.read(ctx.settings.max_image_bytes + 1)
    media_id = await attachments.upload_image(ctx, auth.user, data, params.text("description", None, 1600),
                                              attachments.parse_focus(params.text("focus", None, 40)))
    return JSON(ser.media_attachment(await attachments.get_own(ctx, auth.user, media_id), ctx.base_url))


@router.get("/api/v1/media/{media_id}")
async def get_media(media_id: str, auth: Auth = Depends(require("write:media")),
                    ctx: Context = Depends(get_ctx)) -> JSON:
    row = await attachments.get_own(ctx, auth.user, parse_id(media_id))
    return JSON(ser.media_attachment(row, ctx.base_url))


@router.put("/api/v1/media/{media_id}")
async def update_media(media_id: str, auth: Auth = Depends(require("write:media")), ctx: Context = Depends(get_ctx),
                       params: Params = Depends(get_params)) -> JSON:
    row = await attachments.update_own(ctx, auth.user, parse_id(media_id), params.text("description", None, 1600),
                                       attachments.parse_focus(params.text("focus", None, 40)))
    return JSON(ser.media_attachment(row, ctx.base_url))
