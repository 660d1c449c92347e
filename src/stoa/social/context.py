"""What every domain action needs: the store, the instance's settings, the media URL signer."""

from __future__ import annotations

from dataclasses import dataclass, field

from stoa.config import Settings
from stoa.media.serving import MediaUrlSigner
from stoa.store.database import Database
from stoa.store.regions import Store


@dataclass(frozen=True)
class Context:
    store: Store
    settings: Settings
    media_urls: MediaUrlSigner | None = field(default=None)

    @property
    def db(self) -> Database:
        return self.store.db

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def domain(self) -> str:
        return self.settings.domain
