"""/api/v1/media and /api/v2/media: upload images and videos, describe them, follow their processing.

As Mastodon: a still image is processed in the request (200); a video or an animated GIF answers
202 with ``url: null`` and GET /api/v1/media/:id answers 206 until it is ready (then 200). A file
that could not be processed answers 422 with the reason.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from stoa.api.deps import Auth, get_ctx, get_params, require
from stoa.api.mastodon import serializers as ser
from stoa.api.mastodon.entities import MediaAttachment
from stoa.api.openapi import doc
from stoa.api.params import Params, parse_id
from stoa.api.responses import JSON
from stoa.core.context import Context
from stoa.core.errors import BadRequest, TooLarge, ValidationFailed
from stoa.media import attachments

router = APIRouter()


class MediaChanges(BaseModel):
    description: str | None = Field(None, max_length=1600, description="Alt text")
    focus: str | None = Field(None, max_length=40, description="Focal point: two numbers in [-1, 1], like 0.2,-0.5")


class MediaUpload(MediaChanges):
    file: bytes = Field(description="An image (JPEG, PNG, WebP, HEIC, GIF) or a video")
CHUNK = 1024 * 1024


def _entity(ctx: Context, row: Any) -> JSON:
    if row.state == "failed":
        raise ValidationFailed(row.error or "The file could not be processed")
    return JSON(ser.media_attachment(row, ctx.base_url, ctx.media_urls),
                status_code=206 if row.state == "processing" else 200)


async def _spool(ctx: Context, upload: UploadFile) -> Path:
    """Copy the upload to a private temporary file, refusing it once it passes the largest accepted size."""
    limit = max(ctx.settings.max_video_bytes, ctx.settings.max_image_bytes)
    tmp_dir = ctx.settings.data_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, prefix="upload-")
    path = Path(name)
    try:
        written = 0
        with os.fdopen(fd, "wb") as handle:
            while chunk := await upload.read(CHUNK):
                written += len(chunk)
                if written > limit:
                    raise TooLarge(f"The file is larger than {limit // (1024 * 1024)} MB")
                await asyncio.to_thread(handle.write, chunk)
    except BaseException:
        os.unlink(path)
        raise
    return path


@router.post("/api/v2/media", **doc(MediaAttachment, also={202: MediaAttachment},
                                       body={"multipart/form-data": MediaUpload}))
@router.post("/api/v1/media", **doc(MediaAttachment, also={202: MediaAttachment},
                                       body={"multipart/form-data": MediaUpload}))
async def upload(auth: Auth = Depends(require("write:media")), ctx: Context = Depends(get_ctx),
                 params: Params = Depends(get_params)) -> JSON:
    file = params.file("file")
    if file is None:
        raise BadRequest("Missing parameter: file (multipart upload)")
    description = params.text("description", None, 1600)
    focus = attachments.parse_focus(params.text("focus", None, 40))
    path = await _spool(ctx, file)
    try:
        media_id = await attachments.upload(ctx, auth.user, path, description, focus)
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)
    row = await attachments.get_own(ctx, auth.user, media_id)
    return JSON(ser.media_attachment(row, ctx.base_url, ctx.media_urls),
                status_code=202 if row.state == "processing" else 200)


@router.get("/api/v1/media/{media_id}", **doc(MediaAttachment, also={206: MediaAttachment}, errors=(422,)))
async def get_media(media_id: str, auth: Auth = Depends(require("write:media")),
                    ctx: Context = Depends(get_ctx)) -> JSON:
    return _entity(ctx, await attachments.get_own(ctx, auth.user, parse_id(media_id)))


@router.put("/api/v1/media/{media_id}", **doc(MediaAttachment, also={206: MediaAttachment}, body=MediaChanges))
async def update_media(media_id: str, auth: Auth = Depends(require("write:media")), ctx: Context = Depends(get_ctx),
                       params: Params = Depends(get_params)) -> JSON:
    row = await attachments.update_own(ctx, auth.user, parse_id(media_id), params.text("description", None, 1600),
                                       attachments.parse_focus(params.text("focus", None, 40)))
    return _entity(ctx, row)
