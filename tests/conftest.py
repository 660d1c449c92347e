"""Shared fixtures: settings for each store backend, an in-process app, live server processes."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from stoa.config import Settings
from stoa.core.context import Context
from stoa.store.regions import Store
from tests.databases import BACKENDS, database_url, dispose_url
from tests.helpers import AppClient


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings for a fresh, migrated store on the given backend."""
    from stoa.store.migrate import upgrade

    url = database_url(backend, tmp_path)
    s = Settings(data_dir=tmp_path, database_url=url, run_workers=False, rate_limit_enabled=True,
                 port=8000, host="127.0.0.1")
    upgrade(s)
    try:
        yield s
    finally:
        dispose_url(backend, url)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[AppClient]:
    """The app in-process. Consumers do not run by themselves: tests call ``drain(client)``."""
    from stoa.app import create_app

    async with AppClient(create_app(settings)) as c:
        yield c
    await c.close_app()


@pytest.fixture
async def ctx(settings: Settings) -> AsyncIterator[Context]:
    """The domain's context over a fresh store, for tests that call actions directly."""
    store = Store(settings)
    try:
        yield Context(store, settings)
    finally:
        await store.dispose()
