"""GET /media/{key}: media files, as the post they belong to allows (see stoa.media.serving).

Local storage answers with the file itself (Range requests, so a video seeks); S3-compatible
storage answers with a redirect to a short-lived presigned URL of the object.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends, Request
from starlette.responses import FileResponse, RedirectResponse, Response

from stoa.api.deps import get_ctx
from stoa.core.context import Context
from stoa.core.errors import NotFound
from stoa.media import serving
from stoa.media.storage import S3Storage, storage_for

router = APIRouter()
IMMUTABLE = "public, max-age=31536000, immutable"  # keys are content hashes: a key's bytes never change


@router.api_route("/media/{key:path}", methods=["GET", "HEAD"], include_in_schema=False)
async def media_file(key: str, request: Request, ctx: Context = Depends(get_ctx)) -> Response:
    if not serving.is_servable_key(key):
        raise NotFound("No such file")
    signer = ctx.media_urls
    query = request.query_params
    media_id = signer.verify(key, query.get("expires"), query.get("media"), query.get("signature")) \
        if signer is not None else None
    signed = media_id is not None
    if not (await serving.is_live(ctx.store, key, media_id) if media_id is not None
            else await serving.is_public(ctx.db, key)):
        raise NotFound("No such file")
    cache = "private, max-age=600" if signed else IMMUTABLE
    # A file lives in its owner's home region; a replicated post's media is fetched from there.
    for region in [ctx.home, *(r for r in ctx.store.region_names if r != ctx.home)]:
        store = storage_for(ctx.settings, region)
        path = store.local_path(key)
        if path is not None:
            return FileResponse(path, media_type=serving.content_type(key), headers={"Cache-Control": cache})
        if isinstance(store, S3Storage) and await asyncio.to_thread(store.exists, key):
            url = store.signed_url(key, 600)
            return RedirectResponse(url or "", status_code=302, headers={"Cache-Control": "private, max-age=300"})
    raise NotFound("No such file")
