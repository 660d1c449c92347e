"""Media attachments: upload images and videos, describe them, attach them to a post.

An upload is checked before it is accepted (type, size, pixel count, length, a first decodable
frame), so a person hears at once what is wrong with a file. Still images are then processed
in the request (decoded under limits, bounded to 1920 px, re-encoded without metadata, a preview
and a blurhash made): the answer is 200 with a ready attachment. Videos and animated GIFs are
processed by a durable job (:mod:`stoa.media.jobs`): the answer is 202 and the attachment is
``processing`` until the job marks it ``ready`` (or ``failed``, with the reason).

Everything is stored content-addressed in the region's storage, so nothing half-processed is
ever served and the same upload twice is stored (and transcoded) once. Until attached, an upload
is its uploader's alone; attaching it is part of the post's transaction: up to four images, or
one video.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from stoa.core.context import Context
from stoa.core.errors import NotFound, TooLarge, ValidationFailed
from stoa.media import images, video
from stoa.media.jobs import queue_transcode
from stoa.media.storage import Storage, file_digest, storage_for
from stoa.store.database import Connection
from stoa.store.ids import new_id
from stoa.store.schema import media_attachments

MAX_ATTACHMENTS = 4
MAX_DESCRIPTION = 1500
SNIFF_BYTES = 64 * 1024


def _head(path: Path) -> bytes:
    with path.open("rb") as handle:
        return handle.read(SNIFF_BYTES)


def storage(ctx: Context) -> Storage:
    return storage_for(ctx.settings, ctx.home)  # media lives in its owner's home region


def _check_description(description: str | None) -> None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(f"Description is too long (maximum is {MAX_DESCRIPTION} characters)")


def _check_focus(focus: tuple[float, float] | None) -> None:
    if focus is not None and not all(-1.0 <= f <= 1.0 for f in focus):
        raise ValidationFailed("Focus must be two numbers between -1 and 1")


def _size(w: int, h: int) -> dict[str, Any]:
    return {"width": w, "height": h, "size": f"{w}x{h}", "aspect": round(w / h, 4) if h else 1.0}


async def upload(ctx: Context, account_id: int, path: Path, description: str | None,
                 focus: tuple[float, float] | None) -> int:
    """Accept the file at ``path`` (the caller's temporary copy of the upload) as a new attachment."""
    _check_description(description)
    _check_focus(focus)
    size = (await asyncio.to_thread(path.stat)).st_size
    if size == 0:
        raise ValidationFailed("The uploaded file is empty")
    kind: str | None = None
    if size <= ctx.settings.max_image_bytes:
        data = await asyncio.to_thread(path.read_bytes)
        kind = await asyncio.to_thread(images.kind_of, data)
        if kind == "image":
            return await _store_image(ctx, account_id, data, description, focus)
        if kind == "animation":
            return await _queue(ctx, account_id, path, "gifv", description, focus)
    else:
        image_format = images.format_of(await asyncio.to_thread(_head, path))
        if image_format is not None and image_format != "GIF":
            raise TooLarge(f"Image is larger than {ctx.settings.max_image_bytes // (1024 * 1024)} MB")
        kind = "gifv" if image_format == "GIF" else "video"  # a big animated GIF is a video by any other name
    if size > ctx.settings.max_video_bytes:
        raise TooLarge(f"Video is larger than {ctx.settings.max_video_bytes // (1024 * 1024)} MB")
    await asyncio.to_thread(video.probe, path, ctx.settings.max_video_seconds)  # refuses what it cannot serve
    return await _queue(ctx, account_id, path, "gifv" if kind == "gifv" else "video", description, focus)


async def _store_image(ctx: Context, account_id: int, data: bytes, description: str | None,
                       focus: tuple[float, float] | None) -> int:
    processed = await asyncio.to_thread(images.process_post_image, data, ctx.settings.max_image_bytes)
    store = storage(ctx)
    original = await asyncio.to_thread(store.put, processed.original.data, processed.original.extension, "media")
    preview = await asyncio.to_thread(store.put, processed.preview.data, processed.preview.extension, "previews")
    media_id = new_id()
    meta = {"original": _size(processed.original.width, processed.original.height),
            "small": _size(processed.preview.width, processed.preview.height)}
    async with ctx.db.write() as conn:
        await conn.execute(media_attachments.insert().values(
            id=media_id, account_id=account_id, status_id=None, type="image", file=original, preview=preview,
            content_type=processed.original.content_type, meta=meta, blurhash=processed.blurhash,
            description=description or "", focus_x=focus[0] if focus else 0.0, focus_y=focus[1] if focus else 0.0,
            created_at=datetime.now(UTC), state="ready"))
    return media_id


async def _queue(ctx: Context, account_id: int, path: Path, kind: str, description: str | None,
                 focus: tuple[float, float] | None) -> int:
    """Keep the upload as the job's source and queue it, unless the very same file was processed before."""
    digest = await asyncio.to_thread(file_digest, path)
    media_id = new_id()
    values: dict[str, Any] = {
        "id": media_id, "account_id": account_id, "status_id": None, "type": kind, "description": description or "",
        "focus_x": focus[0] if focus else 0.0, "focus_y": focus[1] if focus else 0.0,
        "created_at": datetime.now(UTC), "source_sha256": digest,
    }
    async with ctx.db.read() as conn:
        done = (await conn.execute(select(media_attachments).where(
            media_attachments.c.source_sha256 == digest, media_attachments.c.type == kind,
            media_attachments.c.state == "ready").limit(1))).first()
    if done is not None:  # content-addressed outputs: share them, transcode nothing
        values.update(file=done.file, preview=done.preview, content_type=done.content_type, meta=done.meta,
                      blurhash=done.blurhash, state="ready")
    else:
        source = await asyncio.to_thread(storage(ctx).put_file, path, "upload", "incoming", digest)
        values.update(source=source, content_type="video/mp4", meta={}, state="processing")
    async with ctx.db.write() as conn:
        await conn.execute(media_attachments.insert().values(**values))
        if values["state"] == "processing":
            await queue_transcode(conn, media_id)
    ctx.db.wake()
    return media_id


async def get_own(ctx: Context, account_id: int, media_id: int) -> Any:
    async with ctx.db.read() as conn:
        row = (await conn.execute(select(media_attachments).where(
            media_attachments.c.id == media_id, media_attachments.c.account_id == account_id))).first()
    if row is None:
        raise NotFound()
    return row


async def update_own(ctx: Context, account_id: int, media_id: int, description: str | None,
                     focus: tuple[float, float] | None) -> Any:
    _check_description(description)
    _check_focus(focus)
    row = await get_own(ctx, account_id, media_id)
    if row.status_id is not None:
        raise ValidationFailed("This attachment belongs to a post now: edit the post instead")
    values: dict[str, Any] = {}
    if description is not None:
        values["description"] = description
    if focus is not None:
        values["focus_x"], values["focus_y"] = focus
    if values:
        async with ctx.db.write() as conn:
            await conn.execute(update(media_attachments).where(media_attachments.c.id == row.id).values(**values))
    return await get_own(ctx, account_id, media_id)


async def attach(conn: Connection, account_id: int, media_ids: list[int], status_id: int) -> None:
    """Attach the author's own, ready, not yet attached uploads to a new post (in the post's transaction)."""
    if len(media_ids) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"A post can have at most {MAX_ATTACHMENTS} attachments")
    if len(set(media_ids)) != len(media_ids):
        raise ValidationFailed("The same attachment is listed twice")
    rows = (await conn.execute(select(media_attachments.c.id, media_attachments.c.status_id,
                                      media_attachments.c.type, media_attachments.c.state).where(
        media_attachments.c.id.in_(media_ids), media_attachments.c.account_id == account_id))).all()
    if len(rows) != len(media_ids):
        raise ValidationFailed("Media attachments are unknown or not yours")
    if any(r.status_id is not None for r in rows):
        raise ValidationFailed("A media attachment can only be attached to one post")
    if any(r.state == "processing" for r in rows):
        raise ValidationFailed("Cannot attach files that have not finished processing. Try again in a moment!")
    if any(r.state == "failed" for r in rows):
        raise ValidationFailed("Cannot attach a file that could not be processed")
    if len(rows) > 1 and any(r.type in ("video", "gifv") for r in rows):
        raise ValidationFailed("A post can have up to 4 images or 1 video, not both")
    await conn.execute(update(media_attachments).where(media_attachments.c.id.in_(media_ids))
                       .values(status_id=status_id))


def parse_focus(raw: str | None) -> tuple[float, float] | None:
    if raw is None or raw == "":
        return None
    try:
        x, y = (float(v) for v in raw.split(","))
    except ValueError:
        raise ValidationFailed("Focus must be two numbers between -1 and 1, like 0.2,-0.5") from None
    return x, y
