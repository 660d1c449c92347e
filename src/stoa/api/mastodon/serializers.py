"""One function per Mastodon entity: domain read models -> the JSON clients expect."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from stoa.core.context import MediaUrlSigner
from stoa.social.accounts import note_html
from stoa.social.notifications import NotificationView
from stoa.social.relationships import Relationship
from stoa.social.rows import AccountRow, UserRow
from stoa.social.views import StatusView

DEFAULT_AVATAR = "/static/avatar.png"
DEFAULT_HEADER = "/static/header.png"


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_date(moment: datetime | None) -> str | None:
    return moment.date().isoformat() if moment is not None else None


def _media_url(base_url: str, path: str | None, default: str) -> str:
    if not path:
        return base_url + default
    return f"{base_url}/media/{path}"


_account_cache: dict[tuple[Any, ...], dict[str, Any]] = {}


def account(a: AccountRow, base_url: str, domain: str, *, source: UserRow | None = None,
            follow_requests: int = 0) -> dict[str, Any]:
    """The Account entity. Without ``source`` the result is shared between calls: do not mutate it."""
    if source is not None:
        return _account(a, base_url, domain, source, follow_requests)
    # Every post on a page embeds its author: render each version of an account once.
    key = (a.id, a.updated_at, a.followers_count, a.following_count, a.statuses_count, a.last_status_at,
           a.suspended_at, base_url)
    cached = _account_cache.get(key)
    if cached is None:
        if len(_account_cache) > 20_000:
            _account_cache.clear()
        cached = _account_cache[key] = _account(a, base_url, domain, None, 0)
    return cached


def _account(a: AccountRow, base_url: str, domain: str, source: UserRow | None, follow_requests: int) -> dict[str, Any]:
    acct = a.username if a.domain is None else f"{a.username}@{a.domain}"
    avatar = _media_url(base_url, a.avatar, DEFAULT_AVATAR)
    header = _media_url(base_url, a.header, DEFAULT_HEADER)
    created = a.created_at
    data: dict[str, Any] = {
        "id": str(a.id),
        "username": a.username,
        "acct": acct,
        "display_name": a.display_name,
        "locked": bool(a.locked),
        "bot": bool(a.bot),
        "discoverable": bool(a.discoverable),
        "indexable": bool(a.discoverable),
        "group": False,
        "created_at": iso(created.replace(hour=0, minute=0, second=0, microsecond=0)),
        "note": note_html(a.note),
        "url": f"{base_url}/@{a.username}",
        "uri": f"{base_url}/users/{a.username}",
        "avatar": avatar,
        "avatar_static": avatar,
        "header": header,
        "header_static": header,
        "followers_count": int(a.followers_count),
        "following_count": int(a.following_count),
        "statuses_count": int(a.statuses_count),
        "last_status_at": iso_date(a.last_status_at),
        "hide_collections": False,
        "noindex": False,
        "emojis": [],
        "roles": [],
        "fields": [{"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": None}
                   for f in (a.fields or [])],
        "stoa": {"region": a.region, "home_domain": a.domain or domain},
    }
    if a.suspended_at is not None:
        data["suspended"] = True
    if source is not None:
        data["source"] = {
            "privacy": source.default_visibility,
            "sensitive": bool(source.default_sensitive),
            "language": source.default_language or "",
            "note": a.note,
            "fields": [{"name": f.get("name", ""), "value": f.get("value", ""), "verified_at": None}
                       for f in (a.fields or [])],
            "follow_requests_count": follow_requests,
            "hide_collections": False,
            "discoverable": bool(a.discoverable),
            "indexable": bool(a.discoverable),
        }
        data["role"] = {"id": "0", "name": source.role, "color": "", "permissions": "0", "highlighted": False}
    return data


_static_cache: dict[tuple[Any, ...], dict[str, Any]] = {}


def _status_static(view: StatusView, base_url: str, signer: MediaUrlSigner | None) -> dict[str, Any]:
    """The parts of a Status that change only when the post is edited, rendered once per version.

    The media of followers-only and direct posts get signed URLs, renewed every signing window.
    """
    r = view.row
    if r.visibility in ("public", "unlisted") or not view.media:
        signer = None
    key = (r.id, r.edited_at, base_url, signer.window() if signer is not None else None)
    cached = _static_cache.get(key)
    if cached is not None:
        return cached
    if len(_static_cache) > 50_000:
        _static_cache.clear()
    username = view.account.username
    cached = _static_cache[key] = {
        "id": str(r.id),
        "uri": f"{base_url}/users/{username}/statuses/{r.id}",
        "url": f"{base_url}/@{username}/{r.id}",
        "created_at": iso(r.created_at),
        "edited_at": iso(r.edited_at),
        "content": r.content if r.reblog_of_id is None else "",
        "visibility": r.visibility,
        "sensitive": bool(r.sensitive),
        "spoiler_text": r.spoiler_text,
        "media_attachments": [media_attachment(m, base_url, signer) for m in view.media],
        "application": ({"name": view.application.name, "website": view.application.website}
                        if view.application is not None else None),
        "mentions": [{"id": str(m.id), "username": m.username, "acct": m.username,
                      "url": f"{base_url}/@{m.username}"} for m in view.mentions],
        "tags": [{"name": t.lower(), "url": f"{base_url}/tags/{t.lower()}"} for t in view.tags],
        "emojis": [],
        "quotes_count": 0,
        "in_reply_to_id": str(r.in_reply_to_id) if r.in_reply_to_id is not None else None,
        "in_reply_to_account_id": (str(r.in_reply_to_account_id)
                                   if r.in_reply_to_account_id is not None else None),
        "poll": None,
        "card": None,
        "language": r.language,
        "text": None,
        "muted": False,
        "filtered": [],
    }
    return cached


def status(view: StatusView, base_url: str, domain: str, signer: MediaUrlSigner | None = None) -> dict[str, Any]:
    """The Status entity as ``view``'s viewer sees it (a fresh dict; nested parts are shared)."""
    r = view.row
    data = dict(_status_static(view, base_url, signer))
    data["account"] = account(view.account, base_url, domain)
    data["reblogs_count"] = r.reblogs_count
    data["favourites_count"] = r.favourites_count
    data["replies_count"] = r.replies_count
    if view.reblog is not None:
        # A boost carries the boosted post and reports the viewer's state of it, as Mastodon does.
        data["reblog"] = status(view.reblog, base_url, domain, signer)
        data["favourited"] = view.reblog.favourited
        data["reblogged"] = view.reblog.reblogged
        data["bookmarked"] = view.reblog.bookmarked
    else:
        data["reblog"] = None
        data["favourited"] = view.favourited
        data["reblogged"] = view.reblogged
        data["bookmarked"] = view.bookmarked
    if view.pinned is not None:
        data["pinned"] = view.pinned
    return data


def status_edit(edit: Any, author: dict[str, Any]) -> dict[str, Any]:
    return {
        "content": edit.content,
        "spoiler_text": edit.spoiler_text,
        "sensitive": bool(edit.sensitive),
        "created_at": iso(edit.created_at),
        "account": author,
        "poll": None,
        "media_attachments": [],
        "emojis": [],
    }


def relationship(rel: Relationship) -> dict[str, Any]:
    return {
        "id": str(rel.id),
        "following": rel.following,
        "showing_reblogs": rel.showing_reblogs,
        "notifying": rel.notifying,
        "languages": None,
        "followed_by": rel.followed_by,
        "blocking": rel.blocking,
        "blocked_by": rel.blocked_by,
        "muting": rel.muting,
        "muting_notifications": rel.muting_notifications,
        "requested": rel.requested,
        "requested_by": rel.requested_by,
        "domain_blocking": rel.domain_blocking,
        "endorsed": rel.endorsed,
        "note": rel.note,
    }


def notification(view: NotificationView, base_url: str, domain: str,
                 signer: MediaUrlSigner | None = None) -> dict[str, Any]:
    r = view.row
    return {
        "id": str(r.id),
        "type": r.type,
        "group_key": f"ungrouped-{r.id}",
        "created_at": iso(r.created_at),
        "account": account(view.account, base_url, domain),
        "status": status(view.status, base_url, domain, signer) if view.status is not None else None,
    }


def tag(row: Any, base_url: str) -> dict[str, Any]:
    return {"name": row.name_lower, "url": f"{base_url}/tags/{row.name_lower}", "history": [],
            "following": False}


def marker(row: Any) -> dict[str, Any]:
    return {"last_read_id": str(row.last_read_id), "version": int(row.version),
            "updated_at": iso(row.updated_at)}


def media_attachment(m: Any, base_url: str, signer: MediaUrlSigner | None = None) -> dict[str, Any]:
    """With a ``signer``, URLs carry a signature: the file is not public (see stoa.media.serving)."""

    def url(key: str | None) -> str | None:
        if key is None:  # still processing
            return None
        return f"{base_url}/media/{key}" + (signer.query(key, int(m.id)) if signer is not None else "")

    return {
        "id": str(m.id),
        "type": m.type,
        "url": url(m.file),
        "preview_url": url(m.preview),
        "remote_url": None,
        "preview_remote_url": None,
        "text_url": None,
        "meta": {**m.meta, "focus": {"x": m.focus_x, "y": m.focus_y}},
        "description": m.description or None,
        "blurhash": m.blurhash,
    }
