"""What every domain action needs: the store, the settings, the media URL signer, the home region."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from stoa.config import Settings
from stoa.media.serving import MediaUrlSigner
from stoa.store.database import Database
from stoa.store.regions import Store


@dataclass(frozen=True)
class Context:
    store: Store
    settings: Settings
    media_urls: MediaUrlSigner | None = field(default=None)
    region: str = ""  # the region this request works in: its actor's home region ("" = the default)

    @property
    def home(self) -> str:
        return self.region or self.store.default_region

    @property
    def db(self) -> Database:
        """The home region's store: where the actor's private rows and own public content are written."""
        return self.store.region(self.home)

    def for_region(self, region: str) -> Context:
        self.store.region(region)  # unknown -> UnknownRegion
        return replace(self, region=region)

    @property
    def base_url(self) -> str:
        return self.settings.base_url

    @property
    def domain(self) -> str:
        return self.settings.domain
