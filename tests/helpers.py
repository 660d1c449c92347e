"""Helpers shared by the tests: the client of the app in-process, signing up, posting and uploading through
the API, running the event consumers and the media jobs, reading the projections."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import httpx
import numpy as np
from fastapi import FastAPI
from sqlalchemy import select

from stoa.config import Settings
from stoa.feeds import similar
from stoa.media import jobs as media_job_kinds
from stoa.media.storage import storage_for
from stoa.social.streaming import Hub
from stoa.store.database import Database
from stoa.store.jobs import Clock, JobRunner, Registry, utcnow
from stoa.store.regions import Store
from stoa.store.replication import replicators_for
from stoa.store.schema import (
    accounts,
    home_feed,
    notifications,
    status_search,
    status_vectors,
    statuses,
    trending_posts,
)
from stoa.worker import consumers


class AppClient(httpx.AsyncClient):
    """An httpx client of the app in-process, with what the app holds at hand, typed: its store (each
    region's database), its live-stream hub and its settings."""

    def __init__(self, app: FastAPI, **kwargs: Any) -> None:
        super().__init__(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1:8000", **kwargs)
        self.app = app

    @property
    def store(self) -> Store:
        return cast(Store, self.app.state.store)

    @property
    def db(self) -> Database:
        """The default region's database."""
        return self.store.db

    def region(self, name: str) -> Database:
        return self.store.region(name)

    @property
    def hub(self) -> Hub:
        return cast(Hub, self.app.state.hub)

    @property
    def settings(self) -> Settings:
        return cast(Settings, self.app.state.settings)

    async def close_app(self) -> None:
        """Stop what the app started (the hub, the store's connections); after the client is closed."""
        await self.hub.stop()
        await self.store.dispose()


@dataclass
class User:
    id: str
    username: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def register_app(client: httpx.AsyncClient, scopes: str = "read write follow push") -> dict[str, str]:
    response = await client.post("/api/v1/apps", data={"client_name": "tests", "scopes": scopes,
                                                       "redirect_uris": "urn:ietf:wg:oauth:2.0:oob"})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def app_token(client: httpx.AsyncClient, app: dict[str, str], scope: str = "read write follow push") -> str:
    response = await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "scope": scope})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


async def sign_up(client: httpx.AsyncClient, username: str, password: str = "correct horse battery",
                  locale: str = "en") -> User:
    app = await register_app(client)
    token = await app_token(client, app)
    response = await client.post("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"}, data={
        "username": username, "email": f"{username}@example.org", "password": password, "agreement": "true",
        "locale": locale})
    assert response.status_code == 200, response.text
    user_token = response.json()["access_token"]
    me = await client.get("/api/v1/accounts/verify_credentials",
                          headers={"Authorization": f"Bearer {user_token}"})
    assert me.status_code == 200, me.text
    return User(me.json()["id"], username, user_token)


async def post(client: httpx.AsyncClient, user: User, text: str, **extra: Any) -> dict[str, Any]:
    """Post as ``user`` through the API; the status entity."""
    response = await client.post("/api/v1/statuses", headers=user.headers, data={"status": text, **extra})
    assert response.status_code == 200, response.text
    return dict(response.json())


async def post_id(client: httpx.AsyncClient, user: User, text: str, **extra: Any) -> str:
    """Post in English unless ``language`` says otherwise (For You reads a post's language); its id."""
    return str((await post(client, user, text, **{"language": "en", **extra}))["id"])


async def upload(client: httpx.AsyncClient, headers: dict[str, str], data: bytes, name: str = "p.jpg",
                 content_type: str = "image/jpeg", **fields: str) -> httpx.Response:
    """Upload a file to /api/v2/media as it is sent, whatever its name and type say."""
    return await client.post("/api/v2/media", headers=headers, files={"file": (name, data, content_type)},
                             data=fields)


def media_jobs(client: AppClient, settings: Settings, clock: Clock = utcnow) -> JobRunner:
    """A worker's media job runner for the client's default region."""
    registry = Registry()
    media_job_kinds.register(registry, client.db, storage_for(settings, settings.region), settings)
    return JobRunner(client.db, registry, [media_job_kinds.TRANSCODE], clock=clock)


async def run_jobs(client: AppClient, settings: Settings) -> int:
    """What a worker does: claim and process every queued media job."""
    runner, done = media_jobs(client, settings), 0
    while await runner.run_once():
        done += 1
    return done


def stored_files(settings: Settings) -> list[Path]:
    """Every media file in the local media storage."""
    return [p for p in Path(settings.media_root).rglob("*") if p.is_file()]


async def drain(client: AppClient) -> int:
    """Run every event consumer and replicator until caught up (what `stoa serve` does in the background)."""
    regions = {name: client.region(name) for name in client.store.region_names}
    total = 0
    while True:
        done = 0
        for replicator in replicators_for(regions):
            done += await replicator.drain()
        for name, db in regions.items():
            for consumer in consumers(db, client.hub, name):
                done += await consumer.drain(db)
        total += done
        if not done:
            return total


async def projections(db: Database) -> dict[str, Any]:
    """Every derived table, keyed by meaning: people by username, posts by their place in time."""
    async with db.read() as conn:
        name = {int(r.id): r.username for r in await conn.execute(select(accounts.c.id, accounts.c.username))}
        order = {int(sid): n for n, sid in enumerate((await conn.execute(
            select(statuses.c.id).order_by(statuses.c.id))).scalars())}
        people = await conn.execute(select(accounts.c.username, accounts.c.followers_count,
                                           accounts.c.following_count, accounts.c.statuses_count,
                                           accounts.c.last_status_at.is_(None).label("never_posted")))
        posts = await conn.execute(select(statuses.c.id, statuses.c.replies_count,
                                          statuses.c.reblogs_count, statuses.c.favourites_count))
        return {
            "account counts": sorted(tuple(r) for r in people),
            "post counts": sorted((order[int(r.id)], *tuple(r)[1:]) for r in posts),
            "home timelines": sorted((name[r.account_id], order[r.status_id], name[r.author_id])
                                     for r in await conn.execute(select(home_feed))),
            "notifications": sorted((name[r.account_id], r.type, name[r.from_account_id],
                                     None if r.status_id is None else order[r.status_id])
                                    for r in await conn.execute(select(notifications))),
            "search": sorted((order[r.status_id], r.document) for r in await conn.execute(select(status_search))),
            "trending": sorted((order[r.status_id], r.language, r.engagement, r.regional_engagement)
                               for r in await conn.execute(select(trending_posts))),
            "vectors": {order[r.status_id]: similar.unpack(r.vector)
                        for r in await conn.execute(select(status_vectors))},
        }


def assert_same_projections(found: dict[str, Any], expected: dict[str, Any]) -> None:
    """Equal row for row; text vectors equal up to float16 rounding (a batch's arithmetic may differ)."""
    for name in expected.keys() - {"vectors"}:
        assert found[name] == expected[name], name
    assert found["vectors"].keys() == expected["vectors"].keys()
    for n, vector in expected["vectors"].items():
        assert np.allclose(found["vectors"][n], vector, atol=2e-3), n
