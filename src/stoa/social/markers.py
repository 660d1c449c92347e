"""Markers: where a person stopped reading their home timeline and notifications."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from stoa.core.context import Context
from stoa.core.errors import ValidationFailed
from stoa.social.events import MarkerSaved
from stoa.store.events import emit
from stoa.store.schema import markers

TIMELINES = ("home", "notifications")


async def get_markers(ctx: Context, viewer_id: int, timelines: list[str]) -> dict[str, Any]:
    wanted = [t for t in timelines if t in TIMELINES] or list(TIMELINES)
    async with ctx.db.read() as conn:
        rows = await conn.execute(select(markers).where(markers.c.account_id == viewer_id,
                                                        markers.c.timeline.in_(wanted)))
        return {r.timeline: r for r in rows}


async def save_markers(ctx: Context, viewer_id: int, positions: dict[str, int]) -> dict[str, Any]:
    if not positions:
        raise ValidationFailed("Give home[last_read_id] or notifications[last_read_id]")
    async with ctx.db.write() as conn:
        for timeline, last_read_id in positions.items():
            if timeline not in TIMELINES:
                raise ValidationFailed(f"Unknown timeline {timeline!r}")
            current = (await conn.execute(select(markers).where(
                markers.c.account_id == viewer_id, markers.c.timeline == timeline))).first()
            values = {"last_read_id": last_read_id, "updated_at": datetime.now(UTC)}
            if current is None:
                await conn.execute(markers.insert().values(account_id=viewer_id, timeline=timeline,
                                                           version=0, **values))
            else:
                await conn.execute(markers.update().where(
                    markers.c.account_id == viewer_id, markers.c.timeline == timeline
                ).values(version=markers.c.version + 1, **values))
            await emit(conn, MarkerSaved(account_id=viewer_id, timeline=timeline, last_read_id=last_read_id))
    return await get_markers(ctx, viewer_id, list(positions))
