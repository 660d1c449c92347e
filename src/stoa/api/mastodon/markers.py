"""/api/v1/markers."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from stoa.api.deps import Auth, get_ctx, get_params, require
from stoa.api.mastodon import serializers as ser
from stoa.api.mastodon.entities import Markers
from stoa.api.openapi import NumericId, doc
from stoa.api.params import Params
from stoa.api.responses import JSON
from stoa.core.context import Context
from stoa.core.errors import ValidationFailed
from stoa.social import markers
from stoa.store import ids

router = APIRouter()


class MarkersQuery(BaseModel):
    timeline: list[Literal["home", "notifications"]] | None = Field(None, max_length=2)


class Position(BaseModel):
    last_read_id: NumericId


class MarkersForm(BaseModel):
    home: Position | None = None
    notifications: Position | None = None


@router.get("/api/v1/markers", **doc(Markers, query=MarkersQuery))
async def get_markers(auth: Auth = Depends(require("read:statuses")), ctx: Context = Depends(get_ctx),
                      params: Params = Depends(get_params)) -> JSON:
    found = await markers.get_markers(ctx, auth.user, params.items("timeline", 2))
    return JSON({name: ser.marker(row) for name, row in found.items()})


@router.post("/api/v1/markers", **doc(Markers, body=MarkersForm))
async def save_markers(auth: Auth = Depends(require("write:statuses")), ctx: Context = Depends(get_ctx),
                       params: Params = Depends(get_params)) -> JSON:
    positions: dict[str, int] = {}
    for timeline in markers.TIMELINES:
        value = params.raw(timeline)
        if isinstance(value, dict) and value.get("last_read_id") is not None:
            position = ids.parse(value["last_read_id"])
            if position is None:
                raise ValidationFailed(f"{timeline}[last_read_id] must be a numeric id")
            positions[timeline] = position
    saved = await markers.save_markers(ctx, auth.user, positions)
    return JSON({name: ser.marker(row) for name, row in saved.items()})
