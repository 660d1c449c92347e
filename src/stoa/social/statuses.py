"""Posts: create, edit, delete, reply (who may see them: ``visibility``; what people do with them:
``interactions``; how they are read in threads: ``threads``).

Each action runs in one write transaction and ends with its event, so the
post and everything derived from it (home timelines, notifications, search)
can never disagree after a crash: derived state is rebuilt from events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update

from stoa.core.context import Context
from stoa.core.errors import Forbidden, NotFound, ValidationFailed
from stoa.media.attachments import MAX_ATTACHMENTS, attach
from stoa.social import search_text
from stoa.social import text as post_text
from stoa.social.events import (
    StatusCreated,
    StatusDeleted,
    StatusUpdated,
)
from stoa.social.visibility import get_visible
from stoa.store import counters
from stoa.store.database import Connection
from stoa.store.events import emit
from stoa.store.ids import new_id
from stoa.store.ids import parse as parse_id
from stoa.store.redemption import claim_once
from stoa.store.schema import (
    accounts,
    home_feed,
    idempotency_keys,
    media_attachments,
    mentions,
    pins,
    status_edits,
    status_tags,
    statuses,
    tags,
    users,
)

VISIBILITIES = ("public", "unlisted", "private", "direct")
MAX_PINS = 5
MAX_IDEMPOTENCY_KEY = 255  # the stored column's width


@dataclass
class Draft:
    text: str
    visibility: str | None = None
    spoiler_text: str = ""
    sensitive: bool | None = None
    language: str | None = None
    in_reply_to_id: int | None = None
    media_ids: list[str] = field(default_factory=list)
    idempotency_key: str | None = None
    app_id: int | None = None


def _now() -> datetime:
    return datetime.now(UTC)


async def _resolve_mentions(conn: Connection, names: list[str], local_domain: str) -> dict[str, int]:
    local = []
    for name in names:
        user, _, domain = name.partition("@")
        if not domain or domain.lower() == local_domain.lower():
            local.append(user.lower())
    if not local:
        return {}
    rows = await conn.execute(
        select(accounts.c.username_lower, accounts.c.id).where(
            accounts.c.username_lower.in_(local), accounts.c.suspended_at.is_(None)
        )
    )
    return {r.username_lower: int(r.id) for r in rows}


async def _ensure_tags(conn: Connection, names: list[str], insert_ignore: Any) -> list[int]:
    if not names:
        return []
    lowered = [n.lower() for n in names]
    now = _now()
    await conn.execute(
        insert_ignore,
        [{"id": new_id(), "name": n, "name_lower": n.lower(), "created_at": now} for n in names],
    )
    rows = await conn.execute(select(tags.c.id).where(tags.c.name_lower.in_(lowered)))
    return [int(r.id) for r in rows]


def _media_ids(draft: Draft) -> list[int]:
    found = []
    for raw in draft.media_ids:
        number = parse_id(raw)
        if number is None:
            raise ValidationFailed("Media attachments are unknown or not yours")
        found.append(number)
    return found


def _validate_draft(ctx: Context, draft: Draft) -> None:
    _media_ids(draft)
    if len(draft.media_ids) > MAX_ATTACHMENTS:
        raise ValidationFailed(f"A post can have at most {MAX_ATTACHMENTS} attachments")
    if not draft.text.strip() and not draft.media_ids:
        raise ValidationFailed("Text can't be blank")
    if len(draft.text) + len(draft.spoiler_text) > ctx.settings.max_status_chars:
        raise ValidationFailed(f"Text character limit of {ctx.settings.max_status_chars} exceeded")
    if draft.visibility is not None and draft.visibility not in VISIBILITIES:
        raise ValidationFailed("Visibility is not included in the list")
    if draft.idempotency_key and len(draft.idempotency_key) > MAX_IDEMPOTENCY_KEY:
        raise ValidationFailed(f"Idempotency-Key is too long (maximum is {MAX_IDEMPOTENCY_KEY} characters)")
    if draft.language is not None and draft.language not in post_text.LANGUAGE_CODES:
        raise ValidationFailed(f"Language {draft.language!r} is not a supported ISO 639-1 code")


async def post_status(ctx: Context, author_id: int, draft: Draft) -> int:
    """Create a post (or a reply); returns its id. Repeating an Idempotency-Key returns the first id."""
    _validate_draft(ctx, draft)
    db = ctx.db
    status_id = new_id()
    async with db.write() as conn:
        earlier = await _posted_with_key(conn, author_id, draft, status_id)
        if earlier is not None:
            return earlier
        visibility, sensitive, language = await _with_defaults(conn, author_id, draft)
        reply_account, conversation_id = await _reply_target(conn, author_id, draft, status_id)
        parsed = post_text.parse(draft.text)
        mentioned = await _resolve_mentions(conn, parsed.mentions, ctx.domain)
        now = _now()
        await conn.execute(statuses.insert().values(
            id=status_id, account_id=author_id, text=draft.text,
            content=post_text.render(draft.text, ctx.base_url, set(mentioned)),
            spoiler_text=draft.spoiler_text, sensitive=sensitive or bool(draft.spoiler_text),
            visibility=visibility, language=language, in_reply_to_id=draft.in_reply_to_id,
            in_reply_to_account_id=reply_account, conversation_id=conversation_id, app_id=draft.app_id,
            created_at=now))
        if mentioned:
            await conn.execute(
                mentions.insert(), [{"status_id": status_id, "account_id": a} for a in mentioned.values()])
        if draft.media_ids:
            await attach(conn, author_id, _media_ids(draft), status_id)
        tag_ids = await _ensure_tags(conn, parsed.hashtags, db.insert_ignore(tags))
        if tag_ids:
            await conn.execute(status_tags.insert(), [{"status_id": status_id, "tag_id": t} for t in tag_ids])
        if draft.in_reply_to_id is not None and visibility != "direct":
            await counters.shift(conn, statuses, draft.in_reply_to_id, "replies_count", 1)
        await conn.execute(update(accounts).where(accounts.c.id == author_id).values(
            statuses_count=accounts.c.statuses_count + 1, last_status_at=now))
        # The author sees their own post at once; followers get it from the fan-out consumer.
        await conn.execute(
            db.insert_ignore(home_feed).values(account_id=author_id, status_id=status_id, author_id=author_id))
        await emit(conn, StatusCreated(
            status_id=status_id, account_id=author_id, visibility=visibility, mentions=list(mentioned.values()),
            tags=[t.lower() for t in parsed.hashtags], in_reply_to_id=draft.in_reply_to_id,
            in_reply_to_account_id=reply_account, language=language))
    db.wake()
    return status_id


async def _posted_with_key(conn: Connection, author_id: int, draft: Draft, status_id: int) -> int | None:
    """The post an earlier request with the same Idempotency-Key made, or None: this one posts.

    The key is claimed before anything else, in one conditional write: of concurrent retries, one
    inserts it and posts; the others wait on the key's unique index, insert nothing, and answer with
    the first one's post once it commits (or post themselves if it rolled back)."""
    if not draft.idempotency_key or await claim_once(conn, idempotency_keys, {
            "account_id": author_id, "key": draft.idempotency_key, "status_id": status_id, "created_at": _now()}):
        return None
    return int((await conn.execute(select(idempotency_keys.c.status_id).where(
        idempotency_keys.c.account_id == author_id, idempotency_keys.c.key == draft.idempotency_key))).scalar_one())


async def _with_defaults(conn: Connection, author_id: int, draft: Draft) -> tuple[str, bool, str | None]:
    """Visibility, sensitivity and language: as the draft says, else the author's defaults, else detected."""
    user = (await conn.execute(select(users).where(users.c.account_id == author_id))).first()
    visibility = draft.visibility or (user.default_visibility if user else "public")
    sensitive = draft.sensitive if draft.sensitive is not None else bool(user and user.default_sensitive)
    language = draft.language or (user.default_language if user else None) or search_text.detect_language(draft.text)
    return visibility, sensitive, language


async def _reply_target(conn: Connection, author_id: int, draft: Draft, status_id: int) -> tuple[int | None, int]:
    """Whom a reply answers and the conversation it joins (a new post starts its own)."""
    if draft.in_reply_to_id is None:
        return None, status_id
    try:
        parent = await get_visible(conn, author_id, draft.in_reply_to_id)
    except NotFound:
        raise ValidationFailed("The post you are replying to does not exist or is not visible") from None
    if parent.reblog_of_id is not None:
        raise ValidationFailed("You cannot reply to a boost")
    return int(parent.account_id), int(parent.conversation_id or parent.id)


async def edit_status(
    ctx: Context, editor_id: int, status_id: int, text: str, spoiler_text: str | None,
    sensitive: bool | None, language: str | None, media_ids: list[str] | None = None,
) -> None:
    db = ctx.db
    async with db.write() as conn:
        row = await get_visible(conn, editor_id, status_id)
        if row.account_id != editor_id:
            raise Forbidden("This action is not allowed")
        if row.reblog_of_id is not None:
            raise ValidationFailed("A boost cannot be edited")
        spoiler = row.spoiler_text if spoiler_text is None else spoiler_text
        attached = {str(x) for x in (await conn.execute(select(media_attachments.c.id).where(
            media_attachments.c.status_id == status_id))).scalars()}
        if media_ids is not None and media_ids and set(media_ids) != attached:
            raise ValidationFailed("Changing a post's attachments is not supported yet; edit its text")
        _validate_draft(ctx, Draft(text=text, spoiler_text=spoiler, language=language, media_ids=sorted(attached)))
        now = _now()
        count = (
            await conn.execute(select(func.count()).select_from(status_edits).where(
                status_edits.c.status_id == status_id))
        ).scalar_one()
        if count == 0:  # keep the original as the first version of the history
            await conn.execute(status_edits.insert().values(
                id=new_id(), status_id=status_id, account_id=editor_id, text=row.text, content=row.content,
                spoiler_text=row.spoiler_text, sensitive=row.sensitive, created_at=row.created_at,
            ))
        parsed = post_text.parse(text)
        mentioned = await _resolve_mentions(conn, parsed.mentions, ctx.domain)
        content = post_text.render(text, ctx.base_url, set(mentioned))
        new_sensitive = row.sensitive if sensitive is None else sensitive
        await conn.execute(
            update(statuses).where(statuses.c.id == status_id).values(
                text=text, content=content, spoiler_text=spoiler, sensitive=new_sensitive or bool(spoiler),
                language=language or row.language, edited_at=now,
            )
        )
        await conn.execute(status_edits.insert().values(
            id=new_id(), status_id=status_id, account_id=editor_id, text=text, content=content,
            spoiler_text=spoiler, sensitive=new_sensitive, created_at=now,
        ))
        old_mentions = {r.account_id for r in await conn.execute(
            select(mentions.c.account_id).where(mentions.c.status_id == status_id))}
        added = [a for a in mentioned.values() if a not in old_mentions]
        if added:
            await conn.execute(mentions.insert(), [{"status_id": status_id, "account_id": a} for a in added])
        # Who a post mentions now is who it is addressed to: a mention the edit dropped takes its access
        # to a direct or followers-only post with it (and, through replication, the other region's copy).
        dropped = sorted(old_mentions - set(mentioned.values()))
        if dropped:
            await conn.execute(delete(mentions).where(mentions.c.status_id == status_id,
                                                      mentions.c.account_id.in_(dropped)))
        await conn.execute(delete(status_tags).where(status_tags.c.status_id == status_id))
        tag_ids = await _ensure_tags(conn, parsed.hashtags, db.insert_ignore(tags))
        if tag_ids:
            await conn.execute(status_tags.insert(), [{"status_id": status_id, "tag_id": t} for t in tag_ids])
        await emit(conn, StatusUpdated(status_id=status_id, account_id=editor_id, visibility=row.visibility,
                                       new_mentions=added, dropped_mentions=dropped))
    db.wake()


async def delete_status(ctx: Context, actor_id: int, status_id: int) -> Any:
    """Tombstone a post (and boosts of it); returns the row as it was, for "delete and redraft"."""
    db = ctx.db
    async with db.write() as conn:
        row = await get_visible(conn, actor_id, status_id)
        if row.account_id != actor_id:
            raise Forbidden("This action is not allowed")
        await tombstone(conn, row)
        await emit(conn, StatusDeleted(status_id=status_id, account_id=actor_id, visibility=row.visibility,
                                       reblog_of_id=row.reblog_of_id, in_reply_to_id=row.in_reply_to_id))
    db.wake()
    return row


async def tombstone(conn: Connection, row: Any) -> None:
    now = _now()
    await conn.execute(update(statuses).where(statuses.c.id == row.id).values(deleted_at=now))
    await counters.shift(conn, accounts, row.account_id, "statuses_count", -1)
    await conn.execute(delete(pins).where(pins.c.status_id == row.id))
    if row.reblog_of_id is not None:
        await adjust_count(conn, row.reblog_of_id, "reblogs_count", -1)
    elif row.in_reply_to_id is not None and row.visibility != "direct":
        await adjust_count(conn, row.in_reply_to_id, "replies_count", -1)
    if row.reblog_of_id is None:
        # Boosts of a deleted post go with it.
        await conn.execute(
            update(statuses)
            .where(statuses.c.reblog_of_id == row.id, statuses.c.deleted_at.is_(None))
            .values(deleted_at=now)
        )


async def adjust_count(conn: Connection, status_id: int, column: str, delta: int) -> None:
    await counters.shift(conn, statuses, status_id, column, delta)
