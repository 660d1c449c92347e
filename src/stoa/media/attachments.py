"""Media attachments: upload an image, describe it, attach up to four to a post.

Images are processed at upload (decoded under limits, bounded to 1920 px, re-encoded without
metadata, a preview and a blurhash made) and stored content-addressed under the region's media
root, so nothing half-processed is ever served. Until attached, an upload is its uploader's alone;
attaching it to a post is part of the post's transaction. Video is issue #4.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update

from stoa.media.images import process_post_image
from stoa.media.storage import LocalStorage
from stoa.social.context import Context
from stoa.social.errors import NotFound, ValidationFailed
from stoa.store.database import Connection
from stoa.store.ids import new_id
from stoa.store.schema import media_attachments

MAX_ATTACHMENTS = 4
MAX_DESCRIPTION = 1500


def _check_description(description: str | None) -> None:
    if description is not None and len(description) > MAX_DESCRIPTION:
        raise ValidationFailed(f"Description is too long (maximum is {MAX_DESCRIPTION} characters)")


def _check_focus(focus: tuple[float, float] | None) -> None:
    if focus is not None and not all(-1.0 <= f <= 1.0 for f in focus):
        raise ValidationFailed("Focus must be two numbers between -1 and 1")


async def upload_image(ctx: Context, account_id: int, data: bytes, description: str | None,
                       focus: tuple[float, float] | None) -> int:
    _check_description(description)
    _check_focus(focus)
    processed = await asyncio.to_thread(process_post_image, data, ctx.settings.max_image_bytes)
    storage = LocalStorage(ctx.settings.media_root)
    original = await asyncio.to_thread(storage.put, processed.original.data, processed.original.extension, "media")
    preview = await asyncio.to_thread(storage.put, processed.preview.data, processed.preview.extension, "previews")
    media_id = new_id()

    def size(w: int, h: int) -> dict[str, Any]:
        return {"width": w, "height": h, "size": f"{w}x{h}", "aspect": round(w / h, 4) if h else 1.0}

    meta = {"original": size(processed.original.width, processed.original.height),
            "small": size(processed.preview.width, processed.preview.height)}
    async with ctx.db.write() as conn:
        await conn.execute(media_attachments.insert().values(
            id=media_id, account_id=account_id, status_id=None, type="image", file=original, preview=preview,
            content_type=processed.original.content_type, meta=meta, blurhash=processed.blurhash,
            description=description or "", focus_x=focus[0] if focus else 0.0, focus_y=focus[1] if focus else 0.0,
            created_at=datetime.now(UTC)))
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
    """Attach the author's own, not yet attached uploads to a new post (in the post's transaction)."""
    if len(media_ids) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"A post can have at most {MAX_ATTACHMENTS} attachments")
    if len(set(media_ids)) != len(media_ids):
        raise ValidationFailed("The same attachment is listed twice")
    rows = (await conn.execute(select(media_attachments.c.id, media_attachments.c.status_id).where(
        media_attachments.c.id.in_(media_ids), media_attachments.c.account_id == account_id))).all()
    if len(rows) != len(media_ids):
        raise ValidationFailed("Media attachments are unknown or not yours")
    if any(r.status_id is not None for r in rows):
        raise ValidationFailed("A media attachment can only be attached to one post")
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
