"""What every domain action needs: the store and the instance's settings."""

from __future__ import annotations

from dataclasses import dataclass

from stoa.config import Settings
from stoa.store.database import Database
from stoa.store.regions import Store


@dataclass(frozen=True)
class Context:
    store: Store
    settings: Settings

    @property
    def db(self) -> Database:
        return self.store.db

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def domain(self) -> str:
        return self.settings.domain
