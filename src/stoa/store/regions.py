"""Regions: each has its own store. The store layer routes every row by region.

Today a deployment has one region (``STOA_REGION``, default ``local``); the
routing seam is here from day one so that adding regions changes this file,
not the domain code (see issue #3 and docs/architecture.md).
"""

from __future__ import annotations

from stoa.config import Settings
from stoa.store.database import Database


class UnknownRegion(LookupError):
    pass


class Store:
    """All regions' databases, by name."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.default_region = settings.region
        self._regions: dict[str, Database] = {settings.region: Database(settings.resolved_database_url)}

    @property
    def db(self) -> Database:
        """The default (home) region's database."""
        return self._regions[self.default_region]

    def region(self, name: str) -> Database:
        try:
            return self._regions[name]
        except KeyError:
            raise UnknownRegion(f"unknown region {name!r}") from None

    @property
    def region_names(self) -> list[str]:
        return list(self._regions)

    async def dispose(self) -> None:
        for database in self._regions.values():
            await database.dispose()
