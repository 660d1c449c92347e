"""/api/v1/stoa/transparency: the region's signed tree head, entries and proofs, for auditors."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from stoa.api.deps import Auth, get_params, require
from stoa.api.mastodon.entities import ConsistencyProof, InclusionProof, LogEntry, LogKey
from stoa.api.mastodon.entities import TreeHead as SignedTreeHead
from stoa.api.openapi import doc
from stoa.api.params import Params
from stoa.api.responses import JSON
from stoa.core.errors import BadRequest
from stoa.residency import merkle
from stoa.residency.transparency import TransparencyLog, TreeHead, b64, require_region

router = APIRouter()
PREFIX = "/api/v1/stoa/transparency"


class EntriesQuery(BaseModel):
    start: int = Field(ge=0, description="The first position")
    end: int | None = Field(None, ge=0, description="After the last position (default: start + 100)")


class InclusionQuery(BaseModel):
    position: int = Field(ge=0, description="The entry's position")
    size: int = Field(ge=1, description="The size of the tree the proof is for")


class ConsistencyQuery(BaseModel):
    first: int = Field(ge=1, description="The older tree's size")
    second: int = Field(ge=1, description="The newer tree's size")


def log_for(request: Request, region: str) -> TransparencyLog:
    logs: dict[str, TransparencyLog] = request.app.state.transparency
    require_region(list(logs), region)
    return logs[region]


def head_json(head: TreeHead, public_key: bytes) -> dict[str, Any]:
    return {"region": head.region, "size": head.size, "timestamp": head.timestamp_ms,
            "root_hash": b64(head.root_hash), "signature": b64(head.signature), "public_key": b64(public_key),
            "signature_algorithm": "Ed25519", "signed_message": "stoa-tree-head-v1"}


def entry_json(row: Any) -> dict[str, Any]:
    data = bytes(row.leaf_input)
    return {"position": int(row.position), "leaf_input": b64(data), "leaf_hash": b64(merkle.leaf_hash(data)),
            "entry": orjson.loads(data)}


def _required_int(params: Params, key: str) -> int:
    value = params.integer(key)
    if value is None:
        raise BadRequest(f"Missing parameter: {key}")
    return value


@router.get(PREFIX + "/{region}/key", **doc(LogKey))
async def public_key(request: Request, region: str) -> JSON:
    log = log_for(request, region)
    return JSON({"region": region, "algorithm": "Ed25519", "public_key": b64(log.key.public_bytes)})


@router.get(PREFIX + "/{region}/head", **doc(SignedTreeHead))
async def signed_head(request: Request, region: str) -> JSON:
    log = log_for(request, region)
    return JSON(head_json(await log.head(), log.key.public_bytes))


@router.get(PREFIX + "/{region}/entries", **doc(list[LogEntry], query=EntriesQuery))
async def entries(request: Request, region: str, params: Params = Depends(get_params)) -> JSON:
    log = log_for(request, region)
    start = _required_int(params, "start")
    end = params.integer("end") or start + 100
    return JSON([entry_json(r) for r in await log.entries(start, end)])


@router.get(PREFIX + "/{region}/proof/inclusion", **doc(InclusionProof, query=InclusionQuery))
async def inclusion(request: Request, region: str, params: Params = Depends(get_params)) -> JSON:
    log = log_for(request, region)
    position, size = _required_int(params, "position"), _required_int(params, "size")
    leaf, path = await log.inclusion_proof(position, size)
    return JSON({"position": position, "size": size, "leaf_hash": b64(leaf), "path": [b64(p) for p in path]})


@router.get(PREFIX + "/{region}/proof/consistency", **doc(ConsistencyProof, query=ConsistencyQuery))
async def consistency(request: Request, region: str, params: Params = Depends(get_params)) -> JSON:
    log = log_for(request, region)
    first, second = _required_int(params, "first"), _required_int(params, "second")
    proof = await log.consistency_proof(first, second)
    return JSON({"first": first, "second": second, "proof": [b64(p) for p in proof]})


@router.get(PREFIX + "/mine", **doc(list[LogEntry]))
async def mine(request: Request, auth: Auth = Depends(require("read:accounts"))) -> JSON:
    """Every entry, in every region, that concerns the signed-in person."""
    logs: dict[str, TransparencyLog] = request.app.state.transparency
    found: list[dict[str, Any]] = []
    for log in logs.values():
        found.extend(entry_json(r) for r in await log.entries_about(auth.user))
    return JSON(found)
