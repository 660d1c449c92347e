"""The ASGI application: routes and middleware; embedded, it starts the background work (stoa.worker)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
from collections.abc import AsyncIterator
from pathlib import Path

import structlog
from fastapi import FastAPI
from starlette.responses import PlainTextResponse
from starlette.staticfiles import StaticFiles

from stoa import __version__, worker
from stoa.api import errors, files, openapi
from stoa.api.cors import ApiCorsMiddleware
from stoa.api.deps import TokenCache
from stoa.api.mastodon import (
    accounts,
    explore,
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
from stoa.core.context import Context
from stoa.feeds import similar
from stoa.feeds.ranking_log import log_ranking_config
from stoa.media.serving import MediaUrlSigner
from stoa.residency.transparency import RegionKey, TransparencyLog
from stoa.social.streaming import Broker
from stoa.store.regions import Store
from stoa.web import landing, spa

log = structlog.get_logger(__name__)
STATIC = Path(__file__).parent / "web" / "static"


def create_app(settings: Settings) -> FastAPI:
    store = Store(settings)
    broker = Broker()
    hub = worker.make_hub(settings, store, broker)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        for log_ in app.state.transparency.values():
            await log_ranking_config(log_)  # on the public record before it ranks anything
        await hub.start()
        tasks = worker.start(settings, store, hub) if settings.run_workers else []
        log.info("stoa_started", url=settings.base_url, database=settings.resolved_database_url.split("@")[-1],
                 workers=settings.run_workers, version=__version__)
        for name in store.region_names:  # For You's similarity index, from its saved file, before any request
            await asyncio.to_thread(similar.index_for, store.region(name), settings, name)
        # What startup built (modules, tables, compiled statements...) lives as long as the process: out
        # of the collector's sight, a full collection no longer walks it — each one cost a request
        # ~70 ms at the For You benchmark's p99.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            gc.unfreeze()  # collectable again (a test process starts and stops many apps)
            await worker.stop(tasks)
            await hub.stop()
            await store.dispose()

    app = FastAPI(title="Stoa", version=__version__, lifespan=lifespan, docs_url="/api/docs",
                  redoc_url=None, openapi_url="/api/openapi.json")
    app.state.settings = settings
    app.state.store = store
    app.state.broker = broker
    app.state.hub = hub
    app.state.ctx = Context(store=store, settings=settings, media_urls=MediaUrlSigner.for_settings(settings))
    app.state.contexts = {name: app.state.ctx.for_region(name) for name in store.region_names}
    app.state.token_cache = TokenCache()
    app.state.transparency = {
        name: TransparencyLog(store.region(name), name, RegionKey.for_region(settings.data_dir, name))
        for name in store.region_names
    }

    errors.install(app)
    _routes(app, store)
    _middleware(app, settings)
    return app


def _routes(app: FastAPI, store: Store) -> None:
    routers = [module.router for module in (oauth, accounts, statuses, timelines, notifications, search, markers,
                                            instance, streaming, media, explore, transparency, account_data, feeds,
                                            landing)]
    for router in routers:
        app.include_router(router)
    app.add_route("/metrics", metrics_endpoint)

    async def health(_request: object) -> PlainTextResponse:
        await store.db.ping()
        return PlainTextResponse("OK")

    app.add_route("/health", health)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(files.router)
    app.state.web_dist = spa.WEB_DIST
    app.mount("/assets", spa.Assets(spa.WEB_DIST), name="assets")
    app.router.default = spa.AppFallback(app.router.default, spa.WEB_DIST)  # the web app's pages, else 404
    openapi.install(app, routers)


def _middleware(app: FastAPI, settings: Settings) -> None:
    """Added innermost first: the CORS headers wrap everything, refusals included."""
    upload_limit = max(settings.max_video_bytes, settings.max_image_bytes) + 1024 * 1024  # + multipart framing
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.max_request_bytes,
                       larger={"/api/v1/media": upload_limit, "/api/v2/media": upload_limit})
    if settings.rate_limit_enabled:
        app.add_middleware(RateLimitMiddleware, per_token=settings.rate_limit_per_token,
                           per_ip=settings.rate_limit_per_ip, window_seconds=settings.rate_limit_window_seconds,
                           redis_url=settings.redis_url)
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(ApiCorsMiddleware)  # outermost: refusals (429, 413) carry CORS headers too


def app_from_environment() -> FastAPI:
    """Factory for `stoa serve --processes N`: each worker process builds its app from STOA_* settings."""
    from stoa.config import load_settings

    return create_app(load_settings())
