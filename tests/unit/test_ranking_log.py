"""A ranking configuration is on the transparency log before it serves; unchanged, it is not logged twice."""

from __future__ import annotations

import asyncio

import pytest

from stoa.config import Settings
from stoa.feeds import features
from stoa.feeds.ranking_log import log_ranking_config
from stoa.residency.transparency import RegionKey, TransparencyLog
from stoa.store.database import Database


def test_ranking_configuration_changes_are_logged(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        db = Database(settings.resolved_database_url)
        log = TransparencyLog(db, settings.region, RegionKey.for_region(settings.data_dir, settings.region))
        try:
            assert await log_ranking_config(log) is True
            assert await log_ranking_config(log) is False  # a restart with the same configuration
            first = await log.latest("ranking.config")
            assert first is not None and first["details"]["config"]["weights"] == features.WEIGHTS
            monkeypatch.setitem(features.WEIGHTS, "freshness", -0.2)  # someone retunes the feed
            assert await log_ranking_config(log) is True
            second = await log.latest("ranking.config")
            assert second is not None and second["details"]["sha256"] != first["details"]["sha256"]
            assert second["details"]["config"]["weights"]["freshness"] == -0.2
            assert second["actor"] == "system:stoa" and second["position"] == first["position"] + 1
        finally:
            await db.dispose()

    asyncio.run(scenario())
