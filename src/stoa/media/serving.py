"""Who may fetch a media file: the post's visibility decides.

- Profile pictures, and the media of public and unlisted posts, are public: anyone may fetch
  them and every cache may keep them (the keys are content hashes, so a file never changes).
- The media of followers-only and direct posts, and uploads not yet attached to a post, are
  served only through signed URLs: Stoa hands them out inside the API answers of those who may
  see the post (like S3's presigned URLs), and they expire (``STOA_MEDIA_URL_TTL_SECONDS``).
  Without a valid signature such a file is a 404, the same answer as a file that does not exist.
- The uploads as received (``incoming/``) are never served.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import time
from pathlib import Path

from sqlalchemy import or_, select

from stoa.config import Settings
from stoa.store.database import Database
from stoa.store.schema import accounts, media_attachments, statuses

KEY = re.compile(r"^(avatars|headers|media|previews)/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.[a-z0-9]{2,5}$")
PUBLIC_PREFIXES = ("avatars/", "headers/")
CONTENT_TYPES = {"jpg": "image/jpeg", "png": "image/png", "mp4": "video/mp4", "webp": "image/webp",
                 "gif": "image/gif"}


class MediaUrlSigner:
    """HMAC-SHA256 signatures over (key, expiry) with the deployment's media URL secret."""

    def __init__(self, secret: bytes, ttl_seconds: int) -> None:
        self.secret = secret
        self.ttl = ttl_seconds

    @classmethod
    def for_settings(cls, settings: Settings) -> MediaUrlSigner:
        return cls(_secret(settings.data_dir / "keys" / "media-urls.key"), settings.media_url_ttl_seconds)

    def window(self, now: float | None = None) -> int:
        """URLs signed in the same window are identical (so rendered posts can be cached for a window)."""
        return int((now if now is not None else time.time()) // self.ttl)

    def query(self, key: str, now: float | None = None) -> str:
        expires = (self.window(now) + 2) * self.ttl  # valid for at least one whole window
        return f"?expires={expires}&signature={self._signature(key, expires)}"

    def verify(self, key: str, expires: str | None, signature: str | None, now: float | None = None) -> bool:
        if not expires or not signature or not expires.isascii() or not expires.isdigit() or len(expires) > 12:
            return False
        if int(expires) < (now if now is not None else time.time()):
            return False
        return hmac.compare_digest(self._signature(key, int(expires)), signature)

    def _signature(self, key: str, expires: int) -> str:
        mac = hmac.new(self.secret, f"{key}\n{expires}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode()


def _secret(path: Path) -> bytes:
    """The deployment's secret: STOA_MEDIA_URL_SECRET, or a random one kept under the data directory."""
    configured = os.environ.get("STOA_MEDIA_URL_SECRET")
    if configured:
        return configured.encode()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another server process made it first
        time.sleep(0.05)
        return path.read_bytes()
    with os.fdopen(fd, "wb") as handle:
        handle.write(secrets.token_hex(32).encode())
    return path.read_bytes()


def is_servable_key(key: str) -> bool:
    return bool(KEY.match(key))


async def is_public(db: Database, key: str) -> bool:
    """A profile picture, or media of a live public or unlisted post by an account in good standing."""
    if key.startswith(PUBLIC_PREFIXES):
        return True
    async with db.read() as conn:
        found = (await conn.execute(
            select(media_attachments.c.id)
            .join(statuses, statuses.c.id == media_attachments.c.status_id)
            .join(accounts, accounts.c.id == statuses.c.account_id)
            .where(or_(media_attachments.c.file == key, media_attachments.c.preview == key),
                   statuses.c.visibility.in_(("public", "unlisted")), statuses.c.deleted_at.is_(None),
                   accounts.c.suspended_at.is_(None), accounts.c.erased_at.is_(None))
            .limit(1))).first()
    return found is not None


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")
