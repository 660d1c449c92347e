"""Regions: each has its own store. The store layer routes every row by region.

A deployment declares its regions (``STOA_REGIONS=us,eu``; by default just ``STOA_REGION``,
``local``), each with its own database (``STOA_DATABASE_URL`` with ``{region}``, or
``STOA_REGION_DATABASE_URLS``, or an SQLite file per region). A request works in its actor's
home region; public content reaches the other regions by replication (stoa.social.replication).
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
        self._regions: dict[str, Database] = {name: Database(settings.database_url_for(name), name)
                                              for name in settings.region_names}

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
