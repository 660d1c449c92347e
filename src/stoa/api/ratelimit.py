"""Rate limits per access token and per client IP, with Mastodon's X-RateLimit-* headers.

Fixed windows (Mastodon's defaults: 300 requests per 5 minutes per token,
7,500 per IP) kept in memory for the embedded server; a deployment with
several processes puts them in Redis (see docs/operations.md).
"""

from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stoa.api.responses import error
from stoa.social.errors import TooLarge


class FixedWindows:
    def __init__(self, limit: int, window_seconds: int) -> None:
        self.limit = limit
        self.window = window_seconds
        self._counts: dict[str, tuple[int, int]] = {}

    def hit(self, key: str) -> tuple[int, int, float]:
        """Count one request; return (limit, remaining, reset epoch seconds)."""
        now = time.time()
        window = int(now // self.window)
        start, count = self._counts.get(key, (window, 0))
        if start != window:
            start, count = window, 0
            if len(self._counts) > 100_000:  # forget old windows
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
        count += 1
        self._counts[key] = (start, count)
        return self.limit, max(0, self.limit - count), (window + 1) * self.window


class RateLimitMiddleware:
    EXEMPT = ("/metrics", "/health", "/api/v1/streaming")

    def __init__(self, app: ASGIApp, per_token: int, per_ip: int, window_seconds: int) -> None:
        self.app = app
        self.tokens = FixedWindows(per_token, window_seconds)
        self.ips = FixedWindows(per_ip, window_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.EXEMPT):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        client = scope.get("client")
        ip = client[0] if client else "unknown"
        limit, remaining, reset = self.ips.hit(ip)
        authorization = headers.get(b"authorization", b"")
        if authorization[:7].lower() == b"bearer ":
            key = hashlib.sha256(authorization[7:].strip()).hexdigest()
            t_limit, t_remaining, t_reset = self.tokens.hit(key)
            if remaining > 0:  # report the tighter of the two
                limit, remaining, reset = t_limit, t_remaining, t_reset
            exhausted = t_remaining == 0 and self.tokens._counts[key][1] > t_limit
        else:
            exhausted = False
        exhausted = exhausted or self.ips._counts[ip][1] > self.ips.limit
        rate_headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": datetime.fromtimestamp(reset, UTC).isoformat().replace("+00:00", "Z"),
        }
        if exhausted:
            rate_headers["Retry-After"] = str(max(1, int(reset - time.time())))
            await error(429, "Too many requests", headers=rate_headers)(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw = list(message.get("headers", []))
                raw.extend((k.lower().encode(), v.encode()) for k, v in rate_headers.items())
                message["headers"] = raw
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimitMiddleware:
    """Refuse bodies over the limit with 413 before reading them (Content-Length or streamed)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                await error(400, "Invalid Content-Length")(scope, receive, send)
                return
            if too_big:
                await error(413, f"Request body is larger than {self.max_bytes} bytes")(scope, receive, send)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge()
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await error(413, f"Request body is larger than {self.max_bytes} bytes")(scope, receive, send)


class BodyTooLarge(TooLarge):
    def __init__(self) -> None:
        super().__init__("Request body is too large")
