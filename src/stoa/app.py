"""The ASGI application: routes, middleware, and the in-process event consumers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from functools import partial
from pathlib import Path

import structlog
from fastapi import FastAPI
from starlette.responses import PlainTextResponse
from starlette.staticfiles import StaticFiles

from stoa import __version__
from stoa.api import errors
from stoa.api.deps import TokenCache
from stoa.api.mastodon import (
    accounts,
    instance,
    markers,
    media,
    notifications,
    oauth,
    search,
    statuses,
    streaming,
    timelines,
)
from stoa.api.metrics import MetricsMiddleware, metrics_endpoint
from stoa.api.ratelimit import BodySizeLimitMiddleware, RateLimitMiddleware
from stoa.api.stoa import account_data, feeds, transparency
from stoa.config import Settings
from stoa.residency.transparency import RegionKey, TransparencyLog
from stoa.social.consumers import all_consumers
from stoa.social.context import Context
from stoa.social.maintenance import run_maintenance
from stoa.social.streaming import Broker, Hub, LocalHub, PostgresHub
from stoa.social.timelines import home_holders
from stoa.store.events import run_consumers
from stoa.store.regions import Store
from stoa.web import landing

log = structlog.get_logger(__name__)
STATIC = Path(__file__).parent / "web" / "static"


def make_hub(settings: Settings, store: Store, broker: Broker | None) -> Hub:
    """Embedded: an in-process hub. On PostgreSQL: NOTIFY/LISTEN, so separate workers reach every client."""
    if settings.is_sqlite:
        return LocalHub(broker or Broker(), partial(home_holders, store.db))
    dsn = settings.resolved_database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return PostgresHub(dsn, broker, partial(home_holders, store.db) if broker is not None else None)


def create_app(settings: Settings) -> FastAPI:
    store = Store(settings)
    broker = Broker()
    hub = make_hub(settings, store, broker)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        tasks = []
        if settings.run_workers:
            for name in store.region_names:
                tasks.append(asyncio.create_task(
                    run_consumers(store.region(name), all_consumers(store.region(name), hub),
                                  settings.worker_poll_seconds)))
                tasks.append(asyncio.create_task(run_maintenance(
                    store.region(name), settings.data_dir / "media" / name, depth=settings.home_feed_depth,
                    unattached_media_hours=settings.unattached_media_hours)))
        log.info("stoa_started", url=settings.base_url, database=settings.resolved_database_url.split("@")[-1],
                 workers=settings.run_workers, version=__version__)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await hub.stop()
            await store.dispose()

    app = FastAPI(title="Stoa", version=__version__, lifespan=lifespan, docs_url="/api/docs",
                  redoc_url=None, openapi_url="/api/openapi.json")
    app.state.settings = settings
    app.state.store = store
    app.state.broker = broker
    app.state.hub = hub
    app.state.ctx = Context(store=store, settings=settings)
    app.state.token_cache = TokenCache()
    app.state.transparency = {
        name: TransparencyLog(store.region(name), name, RegionKey.for_region(settings.data_dir, name))
        for name in store.region_names
    }

    errors.install(app)
    for module in (oauth, accounts, statuses, timelines, notifications, search, markers, instance, streaming,
                   media, transparency, account_data, feeds):
        app.include_router(module.router)
    app.include_router(landing.router)
    app.add_route("/metrics", metrics_endpoint)

    async def health(_request: object) -> PlainTextResponse:
        await store.db.ping()
        return PlainTextResponse("OK")

    app.add_route("/health", health)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    settings.media_root.mkdir(parents=True, exist_ok=True)
    app.mount("/media", StaticFiles(directory=settings.media_root, check_dir=False), name="media")

    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes)
    if settings.rate_limit_enabled:
        app.add_middleware(RateLimitMiddleware, per_token=settings.rate_limit_per_token,
                           per_ip=settings.rate_limit_per_ip, window_seconds=settings.rate_limit_window_seconds,
                           redis_url=settings.redis_url)
    app.add_middleware(MetricsMiddleware)
    return app


def app_from_environment() -> FastAPI:
    """Factory for `stoa serve --processes N`: each worker process builds its app from STOA_* settings."""
    from stoa.config import load_settings

    return create_app(load_settings())
