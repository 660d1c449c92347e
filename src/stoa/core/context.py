"""What every domain action needs: the store, the settings, the media URL signer, the home region."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

from stoa.config import Settings
from stoa.store.database import Database
from stoa.store.regions import Store


class MediaUrlSigner(Protocol):
    """Signs media URLs so a file answers only while its post may be seen (``stoa.media.serving``)."""

    def window(self, now: float | None = None) -> int: ...

    def query(self, key: str, media_id: int, now: float | None = None) -> str: ...

    def verify(self, key: str, expires: str | None, media_id: str | None, signature: str | None,
               now: float | None = None) -> int | None: ...


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
