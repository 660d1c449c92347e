"""/api/v1/instance, /api/v2/instance, custom emojis, and the small endpoints clients probe at start."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from stoa import __version__
from stoa.api.deps import Auth, get_ctx, require
from stoa.api.mastodon.entities import CustomEmoji, Instance, InstanceV1, NothingYet, Preferences
from stoa.api.openapi import doc
from stoa.api.responses import JSON
from stoa.core.context import Context
from stoa.media import images as media_images
from stoa.media import video as media_video
from stoa.media.attachments import MAX_DESCRIPTION
from stoa.social import accounts, instance

router = APIRouter()
MASTODON_COMPAT = "4.3.0"


def version() -> str:
    return f"{MASTODON_COMPAT} (compatible; Stoa {__version__})"


IMAGE_TYPES = {"JPEG": ["image/jpeg"], "PNG": ["image/png"], "WEBP": ["image/webp"], "GIF": ["image/gif"],
               "HEIF": ["image/heic", "image/heif"]}
# Videos are probed by content (FFmpeg reads far more); these are what phones and browsers send.
VIDEO_TYPES = ["video/mp4", "video/quicktime", "video/webm"]


def _configuration(ctx: Context) -> dict[str, Any]:
    s = ctx.settings
    images = [mime for fmt in sorted(media_images.ACCEPTED) for mime in IMAGE_TYPES.get(fmt, [])]
    return {
        "urls": {"streaming": ctx.base_url.replace("http", "ws", 1)},
        "accounts": {"max_featured_tags": 10, "max_pinned_statuses": 5},
        "statuses": {"max_characters": s.max_status_chars, "max_media_attachments": 4,
                     "characters_reserved_per_url": 23},
        "media_attachments": {"supported_mime_types": images + VIDEO_TYPES,
                              "image_size_limit": s.max_image_bytes, "image_matrix_limit": media_images.MAX_PIXELS,
                              "video_size_limit": s.max_video_bytes,
                              # Any rate is accepted (above 60 frames/s it is served at 30): Mastodon's figure.
                              "video_frame_rate_limit": 120,
                              "video_matrix_limit": media_video.MAX_PIXELS, "description_limit": MAX_DESCRIPTION},
        "polls": {"max_options": 0, "max_characters_per_option": 0, "min_expiration": 0, "max_expiration": 0},
        "translation": {"enabled": False},
    }


async def _stats(ctx: Context) -> dict[str, int]:
    stats = await instance.statistics(ctx)
    return {"user_count": stats.users, "status_count": stats.posts, "domain_count": stats.domains}


@router.get("/api/v1/instance", **doc(InstanceV1))
async def instance_v1(ctx: Context = Depends(get_ctx)) -> JSON:
    s = ctx.settings
    return JSON({
        "uri": ctx.domain,
        "title": s.instance_title,
        "short_description": s.instance_description,
        "description": s.instance_description,
        "email": s.contact_email,
        "version": version(),
        "urls": {"streaming_api": ctx.base_url.replace("http", "ws", 1)},
        "stats": await _stats(ctx),
        "thumbnail": None,
        "languages": ["en", "it", "fr"],
        "registrations": s.registrations_open,
        "approval_required": False,
        "invites_enabled": False,
        "configuration": _configuration(ctx),
        "contact_account": None,
        "rules": [],
    })


@router.get("/api/v2/instance", **doc(Instance))
async def instance_v2(ctx: Context = Depends(get_ctx)) -> JSON:
    s = ctx.settings
    return JSON({
        "domain": ctx.domain,
        "title": s.instance_title,
        "version": version(),
        "source_url": "https://github.com/stoa-social/stoa",
        "description": s.instance_description,
        "usage": {"users": {"active_month": (await _stats(ctx))["user_count"]}},
        "thumbnail": {"url": ctx.base_url + "/static/thumbnail.png"},
        "languages": ["en", "it", "fr"],
        "configuration": _configuration(ctx),
        "registrations": {"enabled": s.registrations_open, "approval_required": False, "message": None},
        "api_versions": {"mastodon": 2},
        "contact": {"email": s.contact_email, "account": None},
        "rules": [],
        "stoa": {"regions": ctx.store.region_names, "default_region": ctx.store.default_region},
    })


@router.get("/api/v1/custom_emojis", **doc(list[CustomEmoji]))
async def custom_emojis() -> JSON:
    return JSON([])


@router.get("/api/v1/preferences", **doc(Preferences))
async def preferences(auth: Auth = Depends(require("read:accounts")), ctx: Context = Depends(get_ctx)) -> JSON:
    """The signed-in person's posting defaults (set through update_credentials' source[...])."""
    user = await accounts.posting_defaults(ctx, auth.user)
    return JSON({"posting:default:visibility": user.default_visibility,
                 "posting:default:sensitive": bool(user.default_sensitive),
                 "posting:default:language": user.default_language, "reading:expand:media": "default",
                 "reading:expand:spoilers": False})


@router.get("/api/v1/filters", **doc(NothingYet))
@router.get("/api/v2/filters", **doc(NothingYet))
@router.get("/api/v1/lists", **doc(NothingYet))
@router.get("/api/v1/announcements", **doc(NothingYet))
@router.get("/api/v1/trends/tags", **doc(NothingYet))
async def empty_lists() -> JSON:
    """Features Stoa does not have yet answer with an empty list, as a fresh Mastodon server would."""
    return JSON([])


@router.get("/api/v1/conversations", **doc(NothingYet))
async def conversations(_auth: Auth = Depends(require("read:statuses"))) -> JSON:
    """Direct conversations are a person's own: a token with read:statuses, as on Mastodon (none yet)."""
    return JSON([])
