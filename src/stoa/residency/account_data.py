"""A person's rights over their data: download all of it, or erase the account.

Export builds a zip archive (format ``stoa-export-v1``, documented in docs/data-rights.md): JSON
files for the profile and settings, posts with their edit history, follows, blocks, mutes,
bookmarks, favourites, notifications, markers, the apps holding access, the transparency-log
entries about the person — and the profile images. Erasure purges the private rows, tombstones
every post (so timelines, notifications and the search index drop them through the usual events),
undoes follows and favourites with their counters, and leaves a public tombstone that keeps the
username taken. Both are recorded in the region's transparency log before they happen.
"""

from __future__ import annotations

import asyncio
import io
import zipfile
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import delete, func, or_, select, update

from stoa.core.context import Context
from stoa.core.errors import NotFound, ValidationFailed
from stoa.media.attachments import storage as media_storage
from stoa.media.storage import Storage
from stoa.residency.transparency import Record, TransparencyLog
from stoa.social import accounts as account_actions
from stoa.social.events import AccountErased, FavouriteDeleted, StatusDeleted
from stoa.social.relationships import remove_follow
from stoa.social.statuses import adjust_count, tombstone
from stoa.store.database import Connection
from stoa.store.events import emit
from stoa.store.replication import release_held_copies
from stoa.store.schema import (
    accounts,
    apps,
    blocks,
    bookmarks,
    favourites,
    feed_preferences,
    follow_requests,
    follows,
    home_feed,
    idempotency_keys,
    markers,
    media_attachments,
    mutes,
    notifications,
    oauth_codes,
    oauth_tokens,
    pins,
    status_edits,
    statuses,
    users,
    views,
)

FORMAT = "stoa-export-v1"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _rows(result: Any) -> list[dict[str, Any]]:
    out = []
    for row in result:
        item = {}
        for key, value in row._mapping.items():
            if isinstance(value, datetime):
                value = _iso(value)
            elif isinstance(value, int) and key.endswith("id"):
                value = str(value)  # ids as strings, as the API gives them
            item[str(key)] = value
        out.append(item)
    return out


async def _collect(conn: Connection, account_id: int) -> dict[str, Any]:
    """Every file of the archive, by name: the profile, the posts, the relationships, the private rows."""
    files: dict[str, Any] = {"account.json": await _profile(conn, account_id),
                             "statuses.json": await _posts_with_history(conn, account_id)}
    for name, query in _account_lists(account_id).items():
        files[name] = _rows(await conn.execute(query))
    for name, query in _private_rows(account_id).items():
        files[name] = _rows(await conn.execute(query))
    return files


async def _profile(conn: Connection, account_id: int) -> dict[str, Any]:
    me = await account_actions.get_account(conn, account_id)
    user = await account_actions.get_user(conn, account_id)
    return {
        "id": str(me.id), "username": me.username, "display_name": me.display_name, "note": me.note,
        "fields": me.fields, "locked": me.locked, "bot": me.bot, "discoverable": me.discoverable,
        "region": me.region, "created_at": _iso(me.created_at), "avatar": me.avatar, "header": me.header,
        "email": user.email, "role": user.role, "locale": user.locale,
        "default_visibility": user.default_visibility, "default_sensitive": user.default_sensitive,
        "default_language": user.default_language, "sign_up_ip": user.sign_up_ip,
    }


async def _posts_with_history(conn: Connection, account_id: int) -> list[dict[str, Any]]:
    """The account's posts, each with its earlier versions (``history``)."""
    own_statuses = _rows(await conn.execute(
        select(statuses.c.id, statuses.c.created_at, statuses.c.edited_at, statuses.c.visibility, statuses.c.text,
               statuses.c.spoiler_text, statuses.c.sensitive, statuses.c.language, statuses.c.in_reply_to_id,
               statuses.c.reblog_of_id, statuses.c.deleted_at)
        .where(statuses.c.account_id == account_id).order_by(statuses.c.id)))
    edits = _rows(await conn.execute(
        select(status_edits.c.status_id, status_edits.c.created_at, status_edits.c.text,
               status_edits.c.spoiler_text, status_edits.c.sensitive)
        .where(status_edits.c.account_id == account_id).order_by(status_edits.c.id)))
    by_status: dict[str, list[dict[str, Any]]] = {}
    for edit in edits:
        by_status.setdefault(edit.pop("status_id"), []).append(edit)
    for post in own_statuses:
        post["history"] = by_status.get(post["id"], [])
    return own_statuses


def _account_lists(account_id: int) -> dict[str, Any]:
    """Whom the account follows, who follows it, whom it blocks and mutes: each with the other's username."""
    other = accounts.alias("other")

    def listed(table: Any, column: Any, other_column: Any) -> Any:
        return (select(table.c.id, other.c.id.label("account_id"), other.c.username, table.c.created_at)
                .join(other, other.c.id == other_column).where(column == account_id).order_by(table.c.id))

    return {
        "following.json": listed(follows, follows.c.account_id, follows.c.target_account_id),
        "followers.json": listed(follows, follows.c.target_account_id, follows.c.account_id),
        "blocks.json": listed(blocks, blocks.c.account_id, blocks.c.target_account_id),
        "mutes.json": listed(mutes, mutes.c.account_id, mutes.c.target_account_id),
    }


def _private_rows(account_id: int) -> dict[str, Any]:
    """The account's own private rows, one query a file."""
    return {
        "bookmarks.json": select(bookmarks.c.status_id, bookmarks.c.created_at)
        .where(bookmarks.c.account_id == account_id),
        "favourites.json": select(favourites.c.status_id, favourites.c.created_at)
        .where(favourites.c.account_id == account_id),
        "notifications.json": select(notifications.c.id, notifications.c.type, notifications.c.from_account_id,
                                     notifications.c.status_id, notifications.c.created_at)
        .where(notifications.c.account_id == account_id).order_by(notifications.c.id),
        "feed_preferences.json": select(feed_preferences.c.kind, feed_preferences.c.value,
                                        feed_preferences.c.created_at)
        .where(feed_preferences.c.account_id == account_id),
        "media_attachments.json": select(media_attachments.c.id, media_attachments.c.status_id,
                                         media_attachments.c.type, media_attachments.c.state,
                                         media_attachments.c.description, media_attachments.c.file,
                                         media_attachments.c.created_at)
        .where(media_attachments.c.account_id == account_id).order_by(media_attachments.c.id),
        "views.json": select(views.c.status_id, views.c.views, views.c.watched_ms, views.c.skipped,
                             views.c.first_seen_at, views.c.last_seen_at).where(views.c.account_id == account_id),
        "markers.json": select(markers.c.timeline, markers.c.last_read_id, markers.c.updated_at)
        .where(markers.c.account_id == account_id),
        "apps.json": select(apps.c.name, apps.c.website, oauth_tokens.c.scopes, oauth_tokens.c.created_at,
                            oauth_tokens.c.revoked_at)
        .join(apps, apps.c.id == oauth_tokens.c.app_id, isouter=True)
        .where(oauth_tokens.c.account_id == account_id),
    }


async def export_archive(ctx: Context, log: TransparencyLog, account_id: int, password: str) -> bytes:
    """Everything Stoa holds about the account, as a zip archive, after re-checking its password. Logged."""
    await _check_password(ctx, account_id, password)
    await log.record(Record(f"account:{account_id}", "account.export", "requested by the account holder",
                            account_id))
    async with ctx.db.read() as conn:
        files = await _collect(conn, account_id)
    files["transparency.json"] = [orjson.loads(bytes(r.leaf_input)) for r in await log.entries_about(account_id)]
    return await asyncio.to_thread(_zip, files, media_storage(ctx), ctx.base_url,
                                   account_id)


def _zip(files: dict[str, Any], storage: Storage, instance: str, account_id: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        names = sorted(files)
        for name in names:
            archive.writestr(name, orjson.dumps(files[name], option=orjson.OPT_INDENT_2))
        wanted = [(f"media/{kind}", files["account.json"][kind]) for kind in ("avatar", "header")]
        wanted += [(f"media/attachments/{m['id']}", m["file"]) for m in files["media_attachments.json"]]
        for stem, key in wanted:
            if key and storage.exists(key):
                arcname = f"{stem}.{key.rsplit('.', 1)[-1]}"
                archive.writestr(arcname, storage.read(key), compress_type=zipfile.ZIP_STORED)
                names.append(arcname)
        archive.writestr("manifest.json", orjson.dumps({
            "format": FORMAT, "exported_at": datetime.now(UTC).isoformat(), "account_id": str(account_id),
            "region": files["account.json"]["region"], "instance": instance, "files": names,
        }, option=orjson.OPT_INDENT_2))
    return buffer.getvalue()


async def _check_password(ctx: Context, account_id: int, password: str) -> None:
    """Export and erasure ask for the password again: a token alone (perhaps a stolen one) is not enough."""
    async with ctx.db.read() as conn:
        user = (await conn.execute(select(users.c.password_hash).where(users.c.account_id == account_id))).first()
    if user is None:
        raise NotFound()
    if not password or not await account_actions.check_password(user.password_hash, password):
        raise ValidationFailed("The password is incorrect")


async def erase_account(ctx: Context, log: TransparencyLog, account_id: int, password: str) -> None:
    """Erase the account after re-checking its password; logged first, then done in one transaction."""
    await _check_password(ctx, account_id, password)
    await log.record(Record(f"account:{account_id}", "account.erase", "requested by the account holder",
                            account_id))
    db = ctx.db
    async with db.write() as conn:
        me = await account_actions.get_account(conn, account_id)
        files = {p for p in (me.avatar, me.header) if p}
        for row in (await conn.execute(select(media_attachments.c.file, media_attachments.c.preview,
                                              media_attachments.c.source)
                                       .where(media_attachments.c.account_id == account_id))).all():
            files |= {key for key in row if key}
        await _erase(conn, account_id)
    db.wake()
    await _remove_unshared_files(ctx, files)


async def _erase(conn: Connection, account_id: int) -> None:
    now = datetime.now(UTC)
    me = await account_actions.get_account(conn, account_id)
    # Posts: tombstoned one by one so counters of boosted and replied-to posts stay right, and so the
    # usual consumers drop them from timelines, notifications and the search index.
    for row in (await conn.execute(select(statuses).where(statuses.c.account_id == account_id,
                                                          statuses.c.deleted_at.is_(None)))).all():
        await tombstone(conn, row)
        await emit(conn, StatusDeleted(status_id=int(row.id), account_id=account_id, visibility=row.visibility,
                                       reblog_of_id=row.reblog_of_id, in_reply_to_id=row.in_reply_to_id))
    liked = (await conn.execute(select(favourites.c.status_id, statuses.c.account_id)
                                .join(statuses, statuses.c.id == favourites.c.status_id)
                                .where(favourites.c.account_id == account_id))).all()
    for status_id, author_id in liked:
        await adjust_count(conn, int(status_id), "favourites_count", -1)
        # A post homed in another region has its count kept there: tell it.
        await emit(conn, FavouriteDeleted(account_id=account_id, status_id=int(status_id),
                                          status_account_id=int(author_id)))
    following = (await conn.execute(select(follows.c.target_account_id)
                                    .where(follows.c.account_id == account_id))).scalars().all()
    for target in following:
        await remove_follow(conn, account_id, int(target))
    followers = (await conn.execute(select(follows.c.account_id)
                                    .where(follows.c.target_account_id == account_id))).scalars().all()
    for follower in followers:
        await remove_follow(conn, int(follower), account_id)
    # Direct posts others sent them from another region: copies held for them here.
    await release_held_copies(conn, account_id, me.region)
    # Private rows of the holder go entirely; rows of others that only pointed at them go too.
    for table, condition in [
        (favourites, favourites.c.account_id == account_id),
        (bookmarks, bookmarks.c.account_id == account_id),
        (blocks, or_(blocks.c.account_id == account_id, blocks.c.held_for_id == account_id)),
        (mutes, mutes.c.account_id == account_id),
        (pins, pins.c.account_id == account_id),
        (follow_requests, or_(follow_requests.c.account_id == account_id,
                              follow_requests.c.target_account_id == account_id)),
        (notifications, or_(notifications.c.account_id == account_id,
                            notifications.c.from_account_id == account_id)),
        (home_feed, home_feed.c.account_id == account_id),
        (markers, markers.c.account_id == account_id),
        (feed_preferences, feed_preferences.c.account_id == account_id),
        (media_attachments, media_attachments.c.account_id == account_id),  # their posts are tombstones now
        (views, views.c.account_id == account_id),
        (idempotency_keys, idempotency_keys.c.account_id == account_id),
        (oauth_tokens, oauth_tokens.c.account_id == account_id),
        (oauth_codes, oauth_codes.c.account_id == account_id),
        (users, users.c.account_id == account_id),
    ]:
        await conn.execute(delete(table).where(condition))
    await conn.execute(update(accounts).where(accounts.c.id == account_id).values(
        display_name="", note="", fields=[], avatar=None, header=None, locked=False, bot=False,
        discoverable=False, followers_count=0, following_count=0, statuses_count=0, last_status_at=None,
        suspended_at=now, erased_at=now, updated_at=now))
    await emit(conn, AccountErased(account_id=account_id))


async def _remove_unshared_files(ctx: Context, keys: set[str]) -> None:
    """Delete the erased account's files unless someone else uses the same (content-addressed) bytes."""
    storage = media_storage(ctx)
    async with ctx.db.read() as conn:
        for key in keys:
            shared = (await conn.execute(select(func.count()).select_from(accounts).where(
                or_(accounts.c.avatar == key, accounts.c.header == key)))).scalar_one()
            shared += (await conn.execute(select(func.count()).select_from(media_attachments).where(
                or_(media_attachments.c.file == key, media_attachments.c.preview == key,
                    media_attachments.c.source == key)))).scalar_one()
            if not shared:
                await asyncio.to_thread(storage.delete, key)
