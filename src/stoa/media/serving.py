"""Who may fetch a media file: the post's visibility decides.

- Profile pictures, and the media of public and unlisted posts, are public: anyone may fetch
  them and every cache may keep them (the keys are content hashes, so a file never changes).
- The media of followers-only and direct posts, and uploads not yet attached to a post, are
  served only through signed URLs: Stoa hands them out inside the API answers of those who may
  see the post (like S3's presigned URLs), and they expire (``STOA_MEDIA_URL_TTL_SECONDS``).
  Without a valid signature such a file is a 404, the same answer as a file that does not exist;
  with one, it is a 404 as soon as the post is deleted or its author suspended or erased.
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

from sqlalchemy import exists, or_, select

from stoa.config import Settings
from stoa.media.storage import CONTENT_TYPES
from stoa.store.database import Database
from stoa.store.regions import Store
from stoa.store.schema import accounts, media_attachments, statuses

KEY = re.compile(r"^(avatars|headers|media|previews)/[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}\.[a-z0-9]{2,5}$")
PUBLIC_PREFIXES = ("avatars/", "headers/")


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

    def query(self, key: str, media_id: int, now: float | None = None) -> str:
        """The URL's query for ``key`` as a file of attachment ``media_id``: the URL answers only while
        that attachment does (the same bytes on another post get URLs of their own)."""
        expires = (self.window(now) + 2) * self.ttl  # valid for at least one whole window
        return f"?expires={expires}&media={media_id}&signature={self._signature(key, expires, media_id)}"

    def verify(self, key: str, expires: str | None, media_id: str | None, signature: str | None,
               now: float | None = None) -> int | None:
        """The attachment id the URL was signed for, or None when the signature is missing, forged or old."""
        if not expires or not signature or not media_id:
            return None
        if not (_digits(expires, 12) and _digits(media_id, 20)):
            return None
        if int(expires) < (now if now is not None else time.time()):
            return None
        if not hmac.compare_digest(self._signature(key, int(expires), int(media_id)), signature):
            return None
        return int(media_id)

    def _signature(self, key: str, expires: int, media_id: int) -> str:
        mac = hmac.new(self.secret, f"{key}\n{expires}\n{media_id}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:24]).decode()


def _digits(text: str, longest: int) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= longest


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


async def is_live(store: Store, key: str, media_id: int) -> bool:
    """Whether a signed URL may still answer: its attachment holds the file and belongs to a post that
    is not deleted, by an account in good standing (or is its owner's upload, not yet attached). A
    signature proves the URL was handed out once; this makes it die with the post or the account
    instead of at its expiry."""
    if key.startswith(PUBLIC_PREFIXES):
        return True
    live_post = exists().where(statuses.c.id == media_attachments.c.status_id, statuses.c.deleted_at.is_(None))
    query = (select(media_attachments.c.id)
             .join(accounts, accounts.c.id == media_attachments.c.account_id)
             .where(media_attachments.c.id == media_id,
                    or_(media_attachments.c.file == key, media_attachments.c.preview == key),
                    accounts.c.suspended_at.is_(None),
                    or_(media_attachments.c.status_id.is_(None), live_post)))
    for name in store.region_names:  # a direct post's copy may be held in its recipient's region only
        async with store.region(name).read() as conn:
            if (await conn.execute(query)).first() is not None:
                return True
    return False


def content_type(key: str) -> str:
    return CONTENT_TYPES.get(key.rsplit(".", 1)[-1], "application/octet-stream")
