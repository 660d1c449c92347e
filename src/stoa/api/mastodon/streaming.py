"""The streaming API: server-sent events (/api/v1/streaming/...) and the WebSocket (/api/v1/streaming).

Both carry Mastodon's events — ``update``, ``delete``, ``notification``,
``status.update`` — rendered for the subscriber at the moment of sending, so
nobody receives a post they may not see.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, Field
from starlette.responses import PlainTextResponse, StreamingResponse

from stoa.api.deps import Auth, bearer_token, optional_auth, resolve
from stoa.api.mastodon import serializers as ser
from stoa.api.openapi import doc
from stoa.core.context import Context
from stoa.core.errors import DomainError, NotFound, Unauthorized, ValidationFailed
from stoa.social import notifications, visibility
from stoa.social.streaming import Broker, StreamMessage, Subscription
from stoa.social.views import visible_statuses

router = APIRouter()
EVENTS = {"text/event-stream": {"schema": {"type": "string", "description": "Mastodon's streaming events"}}}


class TagQuery(BaseModel):
    tag: str = Field(description="The hashtag (without #)")
USER_STREAMS = {"user", "user:notification", "direct"}
PUBLIC_STREAMS = {"public", "public:local", "public:remote", "hashtag", "hashtag:local"}


def stream_key(stream: str, account_id: int | None, tag: str | None) -> str:
    """Broker key for a Mastodon stream name."""
    if stream in USER_STREAMS:
        if account_id is None:
            raise Unauthorized("This stream requires an access token")
        return f"{stream}:{account_id}"
    if stream in ("hashtag", "hashtag:local"):
        if not tag:
            raise ValidationFailed("No tag for the hashtag stream")
        return f"{stream}:{tag.lower().lstrip('#')}"
    if stream in PUBLIC_STREAMS:
        return stream
    raise ValidationFailed(f"Unknown stream type {stream!r}")


async def render(ctx: Context, subscription: Subscription, message: StreamMessage) -> str | None:
    """The event payload (a JSON string or an id) for this subscriber, or None to skip it."""
    viewer_id = subscription.account_id
    if message.event == "delete":
        if message.public:
            return str(message.object_id)
        # Only those who could see the post hear that it is gone.
        if not await visibility.may_hear_of_deletion(ctx, viewer_id, message.object_id):
            return None
        return str(message.object_id)
    if message.event == "notification":
        if viewer_id is None:
            return None
        try:
            view = await notifications.get_notification(ctx, viewer_id, message.object_id)
        except NotFound:
            return None
        return orjson.dumps(ser.notification(view, ctx.base_url, ctx.domain, ctx.media_urls)).decode()
    views = await visible_statuses(ctx, viewer_id, [message.object_id])  # only what the viewer may see
    if not views:
        return None
    return orjson.dumps(ser.status(views[0], ctx.base_url, ctx.domain, ctx.media_urls)).decode()


def stream_name(key: str) -> list[str]:
    """Broker key -> Mastodon's stream field: "user:42" -> ["user"], "hashtag:cats" -> ["hashtag", "cats"]."""
    for prefix in ("hashtag:local:", "hashtag:"):
        if key.startswith(prefix):
            return [prefix[:-1], key[len(prefix):]]
    head, _, last = key.rpartition(":")
    return [head] if last.isdigit() and head else [key]


async def _sse(ctx: Context, broker: Broker, subscription: Subscription) -> AsyncIterator[bytes]:
    try:
        yield b":)\n\n"
        while True:
            try:
                _key, message = await asyncio.wait_for(subscription.queue.get(),
                                                       timeout=ctx.settings.stream_heartbeat_seconds)
            except TimeoutError:
                yield b":thump\n\n"
                continue
            payload = await render(ctx, subscription, message)
            if payload is not None:
                yield f"event: {message.event}\ndata: {payload}\n\n".encode()
    finally:
        subscription.close()


def _open_sse(request: Request, auth: Auth | None, stream: str, tag: str | None = None) -> StreamingResponse:
    ctx: Context = request.app.state.ctx
    broker: Broker = request.app.state.broker
    account_id = auth.account_id if auth is not None else None
    key = stream_key(stream, account_id, tag)
    subscription = broker.open(account_id)
    broker.subscribe(subscription, key)
    return StreamingResponse(_sse(ctx, broker, subscription), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@router.get("/api/v1/streaming/health", **doc(content={"text/plain": {"schema": {"const": "OK"}}}))
async def health() -> PlainTextResponse:
    return PlainTextResponse("OK")


@router.get("/api/v1/streaming/user", **doc(content=EVENTS))
async def sse_user(request: Request, auth: Auth | None = Depends(optional_auth)) -> StreamingResponse:
    return _open_sse(request, auth, "user")


@router.get("/api/v1/streaming/user/notification", **doc(content=EVENTS))
async def sse_user_notification(request: Request, auth: Auth | None = Depends(optional_auth)) -> StreamingResponse:
    return _open_sse(request, auth, "user:notification")


@router.get("/api/v1/streaming/public", **doc(content=EVENTS))
async def sse_public(request: Request, auth: Auth | None = Depends(optional_auth)) -> StreamingResponse:
    return _open_sse(request, auth, "public")


@router.get("/api/v1/streaming/public/local", **doc(content=EVENTS))
async def sse_public_local(request: Request, auth: Auth | None = Depends(optional_auth)) -> StreamingResponse:
    return _open_sse(request, auth, "public:local")


@router.get("/api/v1/streaming/hashtag", **doc(content=EVENTS, query=TagQuery, errors=(422,)))
async def sse_hashtag(request: Request, auth: Auth | None = Depends(optional_auth)) -> StreamingResponse:
    return _open_sse(request, auth, "hashtag", request.query_params.get("tag"))


@router.get("/api/v1/streaming/hashtag/local", **doc(content=EVENTS, query=TagQuery, errors=(422,)))
async def sse_hashtag_local(request: Request, auth: Auth | None = Depends(optional_auth)) -> StreamingResponse:
    return _open_sse(request, auth, "hashtag:local", request.query_params.get("tag"))


@router.websocket("/api/v1/streaming")
async def websocket_stream(websocket: WebSocket) -> None:
    ctx: Context = websocket.app.state.ctx
    broker: Broker = websocket.app.state.broker
    token = bearer_token(websocket)  # type: ignore[arg-type]
    protocol = websocket.headers.get("sec-websocket-protocol")
    if not token and protocol:
        token = protocol.split(",")[0].strip()
    auth: Auth | None = None
    if token:
        try:
            auth = await resolve(websocket, token)  # type: ignore[arg-type]
        except DomainError:
            await websocket.close(code=4001, reason="Invalid access token")
            return
    await websocket.accept(subprotocol=protocol.split(",")[0].strip() if protocol else None)
    account_id = auth.account_id if auth is not None else None
    subscription = broker.open(account_id)

    async def subscribe(command: dict[str, Any]) -> None:
        try:
            key = stream_key(str(command.get("stream", "")), account_id, command.get("tag"))
        except DomainError as exc:
            await websocket.send_text(orjson.dumps({"error": str(exc), "status": 400}).decode())
            return
        if command.get("type") == "unsubscribe":
            broker.unsubscribe(subscription, key)
        else:
            broker.subscribe(subscription, key)

    initial = websocket.query_params.get("stream")
    if initial:
        await subscribe({"type": "subscribe", "stream": initial, "tag": websocket.query_params.get("tag")})

    async def pump() -> None:
        while True:
            key, message = await subscription.queue.get()
            payload = await render(ctx, subscription, message)
            if payload is not None:
                await websocket.send_text(orjson.dumps({
                    "stream": stream_name(key), "event": message.event,
                    "payload": payload}).decode())

    sender = asyncio.create_task(pump())
    try:
        while True:
            raw = await websocket.receive_text()
            try:
                command = orjson.loads(raw)
            except orjson.JSONDecodeError:
                await websocket.send_text('{"error":"Malformed JSON","status":400}')
                continue
            if isinstance(command, dict) and command.get("type") in ("subscribe", "unsubscribe"):
                await subscribe(command)
    except WebSocketDisconnect:
        pass
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sender
        subscription.close()
