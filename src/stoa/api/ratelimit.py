"""Rate limits per access token and per client IP, with Mastodon's X-RateLimit-* headers.

Fixed windows (Mastodon's defaults: 300 requests per 5 minutes per token,
7,500 per IP), counted in memory for the embedded server, or in Redis when
STOA_REDIS_URL is set so that every server process shares one count.

One bucket per credential however it is sent (``api/client.py`` reads the token
for the limiter exactly as authentication does), one bucket per client address
(behind ``STOA_TRUSTED_PROXIES``, the address they forward; an IPv6 client's
whole /64, which one host can rotate through at will). When Redis cannot be
reached, counts fall back to this process's memory — a limit per process, never
none — with one warning per outage and the ``stoa_rate_limit_fallback_total``
and ``stoa_rate_limit_store_up`` metrics.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from datetime import UTC, datetime

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from stoa.api.client import Network, client_address, token_of, trusted_networks
from stoa.api.metrics import RATE_LIMIT_FALLBACK, RATE_LIMIT_STORE_UP
from stoa.api.responses import error
from stoa.core.errors import TooLarge

log = structlog.get_logger(__name__)


class FixedWindows:
    """Counters per key per fixed window, in this process's memory (the embedded default)."""

    def __init__(self, window_seconds: int) -> None:
        self.window = window_seconds
        self._counts: dict[str, tuple[int, int]] = {}

    async def hit(self, key: str) -> tuple[int, float]:
        """Count one request; return (requests so far in this window, window end in epoch seconds)."""
        now = time.time()
        window = int(now // self.window)
        start, count = self._counts.get(key, (window, 0))
        if start != window:
            start, count = window, 0
            if len(self._counts) > 100_000:  # forget old windows
                self._counts = {k: v for k, v in self._counts.items() if v[0] == window}
        count += 1
        self._counts[key] = (start, count)
        return count, (window + 1) * self.window


class RedisWindows:
    """The same counters in Redis, shared by every server process (STOA_REDIS_URL).

    While Redis is unreachable, this process counts in its own memory: serving everyone without a
    limit would hand an attacker the outage, refusing everyone would make the outage everyone's. Redis
    is tried again every ``RETRY_SECONDS``, not on every request (a dead host would add its connect
    timeout to each one).
    """

    RETRY_SECONDS = 5.0

    def __init__(self, url: str, window_seconds: int) -> None:
        import redis.asyncio as redis

        self.window = window_seconds
        self.redis = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.fallback = FixedWindows(window_seconds)
        self._down_since: float | None = None
        self._retry_at = 0.0
        RATE_LIMIT_STORE_UP.set(1)

    async def hit(self, key: str) -> tuple[int, float]:
        from redis.exceptions import RedisError

        now = time.monotonic()
        if self._down_since is None or now >= self._retry_at:
            window = int(time.time() // self.window)
            name = f"stoa:ratelimit:{key}:{window}"
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    pipe.incr(name)
                    pipe.expire(name, self.window + 5)
                    count, _ = await pipe.execute()
            except (RedisError, OSError) as exc:
                self._went_down(now, exc)
            else:
                if self._down_since is not None:
                    log.info("rate_limit_store_restored", seconds_down=round(now - self._down_since, 1))
                    self._down_since = None
                    RATE_LIMIT_STORE_UP.set(1)
                return int(count), (window + 1) * self.window
        RATE_LIMIT_FALLBACK.inc()
        return await self.fallback.hit(key)

    def _went_down(self, now: float, exc: Exception) -> None:
        self._retry_at = now + self.RETRY_SECONDS
        if self._down_since is None:  # once per outage, not once per request
            self._down_since = now
            RATE_LIMIT_STORE_UP.set(0)
            log.warning("rate_limit_store_unavailable", fallback="memory", error=f"{type(exc).__name__}: {exc}",
                        retry_seconds=self.RETRY_SECONDS)


Windows = FixedWindows | RedisWindows


def address_bucket(address: str) -> str:
    """The per-IP bucket of an address: itself for IPv4, its /64 for IPv6 (one host's usual share)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class RateLimitMiddleware:
    EXEMPT = ("/metrics", "/health", "/api/v1/streaming")

    def __init__(self, app: ASGIApp, per_token: int, per_ip: int, window_seconds: int,
                 redis_url: str = "", trusted_proxies: str | None = None) -> None:
        self.app = app
        self.per_token = per_token
        self.per_ip = per_ip
        self.counters: Windows = RedisWindows(redis_url, window_seconds) if redis_url else FixedWindows(window_seconds)
        self._trusted_setting = trusted_proxies  # None: the app's settings (STOA_TRUSTED_PROXIES)

    def _trusted(self, scope: Scope) -> tuple[Network, ...]:
        setting = self._trusted_setting
        if setting is None:
            settings = getattr(getattr(scope.get("app"), "state", None), "settings", None)
            setting = getattr(settings, "trusted_proxies", "") or ""
        return trusted_networks(setting)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.EXEMPT):
            await self.app(scope, receive, send)
            return
        address = client_address(scope, self._trusted(scope))
        ip_count, reset = await self.counters.hit(f"ip:{address_bucket(address)}")
        limit, count = self.per_ip, ip_count
        exhausted = ip_count > self.per_ip
        token = token_of(scope)
        if token is not None:
            digest = hashlib.sha256(token.encode()).hexdigest()
            token_count, reset = await self.counters.hit(f"token:{digest}")
            exhausted = exhausted or token_count > self.per_token
            if self.per_token - token_count < self.per_ip - ip_count:  # report the tighter of the two
                limit, count = self.per_token, token_count
        rate_headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - count)),
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
    """Refuse bodies over the limit with 413 before reading them (Content-Length or streamed).

    ``larger`` raises the limit for given paths (media uploads).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = self.larger.get(scope.get("path", ""), self.default_max_bytes)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > max_bytes
            except ValueError:
                await error(400, "Invalid Content-Length")(scope, receive, send)
                return
            if too_big:
                await error(413, f"Request body is larger than {max_bytes} bytes")(scope, receive, send)
                return
        received = 0
        started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
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
                await error(413, f"Request body is larger than {max_bytes} bytes")(scope, receive, send)


class BodyTooLarge(TooLarge):
    def __init__(self) -> None:
        super().__init__("Request body is too large")
