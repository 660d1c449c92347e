"""Accounts: sign-up, sign-in, profiles, suspension."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, or_, select

from stoa.core.context import Context
from stoa.core.errors import NotFound, Unauthorized, ValidationFailed
from stoa.media.attachments import storage
from stoa.media.images import process_profile_image
from stoa.social import text as post_text
from stoa.social.events import AccountCreated, AccountSuspended, AccountUnsuspended, AccountUpdated
from stoa.social.relationships import count_follow_requests
from stoa.social.rows import AccountRow, UserRow
from stoa.store.database import Connection
from stoa.store.events import emit
from stoa.store.ids import new_id
from stoa.store.regions import Store
from stoa.store.schema import accounts, users

USERNAME_RE = re.compile(r"^[A-Za-z0-9_]{1,30}$")
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
RESERVED = {"admin", "root", "api", "oauth", "media", "tags", "about", "settings", "stoa", "web", "well_known"}
MIN_PASSWORD = 8
MAX_PASSWORD = 256

_hasher = PasswordHasher()  # argon2id with the library's (RFC 9106 low-memory) parameters


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def check_password(stored_hash: str, password: str) -> bool:
    def verify() -> bool:
        try:
            return _hasher.verify(stored_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(verify)


@dataclass(frozen=True)
class NewAccount:
    username: str
    email: str
    password: str
    display_name: str = ""
    locale: str = "en"
    region: str | None = None
    role: str = "user"
    sign_up_ip: str | None = None


def validate_new_account(new: NewAccount) -> None:
    if not USERNAME_RE.match(new.username):
        raise ValidationFailed("Username must be 1-30 letters, digits or underscores")
    if new.username.lower() in RESERVED:
        raise ValidationFailed("Username is reserved")
    if not EMAIL_RE.match(new.email) or len(new.email) > 255:
        raise ValidationFailed("Email is invalid")
    if not (MIN_PASSWORD <= len(new.password) <= MAX_PASSWORD):
        raise ValidationFailed(f"Password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    if len(new.display_name) > 100:
        raise ValidationFailed("Display name is too long (maximum is 100 characters)")


async def home_region_of_login(store: Store, login: str) -> str | None:
    """The region holding this username's or e-mail's credentials (private: only in the home region)."""
    login = login.strip().lower()
    for name in store.region_names:
        async with store.region(name).read() as conn:
            found = (await conn.execute(
                select(users.c.account_id).join(accounts, accounts.c.id == users.c.account_id)
                .where(or_(users.c.email == login, accounts.c.username_lower == login)))).first()
        if found is not None:
            return str(name)
    return None


async def check_name_free_everywhere(store: Store, new: NewAccount) -> None:
    """A username or e-mail is unique across regions, not only in the one the account is created in."""
    for name in store.region_names:
        async with store.region(name).read() as conn:
            if (await conn.execute(select(accounts.c.id).where(
                    accounts.c.username_lower == new.username.lower()))).first() is not None:
                raise ValidationFailed("Username has already been taken")
            if (await conn.execute(select(users.c.account_id).where(
                    users.c.email == new.email.lower()))).first() is not None:
                raise ValidationFailed("Email has already been taken")


async def create_account(
    conn: Connection, new: NewAccount, *, default_region: str, password_hash: str | None = None
) -> int:
    """Create a local account and its user; returns the account id. Validates first."""
    validate_new_account(new)
    taken = (
        await conn.execute(
            select(func.count())
            .select_from(accounts)
            .where(accounts.c.username_lower == new.username.lower())
        )
    ).scalar_one()
    if taken:
        raise ValidationFailed("Username has already been taken")
    email_taken = (
        await conn.execute(select(func.count()).select_from(users).where(users.c.email == new.email.lower()))
    ).scalar_one()
    if email_taken:
        raise ValidationFailed("Email has already been taken")
    now = datetime.now(UTC)
    account_id = new_id()
    region = new.region or default_region
    await conn.execute(
        accounts.insert().values(
            id=account_id,
            username=new.username,
            username_lower=new.username.lower(),
            display_name=new.display_name,
            note="",
            fields=[],
            region=region,
            created_at=now,
            updated_at=now,
        )
    )
    await conn.execute(
        users.insert().values(
            account_id=account_id,
            email=new.email.lower(),
            password_hash=password_hash or await hash_password(new.password),
            role=new.role,
            locale=new.locale,
            sign_up_ip=new.sign_up_ip,
            created_at=now,
        )
    )
    await emit(conn, AccountCreated(account_id=account_id, region=region))
    return account_id


async def authenticate(conn: Connection, login: str, password: str) -> int:
    """Username or e-mail plus password -> account id, or Unauthorized."""
    login = login.strip().lower()
    row = (
        await conn.execute(
            select(users.c.account_id, users.c.password_hash, accounts.c.suspended_at)
            .join(accounts, accounts.c.id == users.c.account_id)
            .where(or_(users.c.email == login, accounts.c.username_lower == login))
        )
    ).first()
    if row is None:
        await hash_password(password)  # spend the same time as a real check
        raise Unauthorized("Invalid username or password")
    if not await check_password(row.password_hash, password):
        raise Unauthorized("Invalid username or password")
    if row.suspended_at is not None:
        raise Unauthorized("This account is suspended")
    return int(row.account_id)


async def get_account(conn: Connection, account_id: int) -> AccountRow:
    row = (await conn.execute(select(accounts).where(accounts.c.id == account_id))).first()
    if row is None:
        raise NotFound()
    return cast(AccountRow, row)


async def lookup(conn: Connection, acct: str, local_domain: str) -> AccountRow:
    name, _, domain = acct.lstrip("@").partition("@")
    if domain and domain.lower() != local_domain.lower():
        raise NotFound()
    row = (await conn.execute(select(accounts).where(accounts.c.username_lower == name.lower()))).first()
    if row is None or row.suspended_at is not None:
        raise NotFound()
    return cast(AccountRow, row)


async def lookup_any(conn: Connection, username: str) -> AccountRow:
    """A local account by username, suspended or not (for operator tools)."""
    row = (await conn.execute(select(accounts).where(
        accounts.c.username_lower == username.lstrip("@").lower()))).first()
    if row is None:
        raise NotFound()
    return cast(AccountRow, row)


@dataclass
class ProfileChanges:
    display_name: str | None = None
    note: str | None = None
    locked: bool | None = None
    bot: bool | None = None
    discoverable: bool | None = None
    fields: list[dict[str, str]] | None = None
    avatar: str | None = None
    header: str | None = None
    default_visibility: str | None = None
    default_sensitive: bool | None = None
    default_language: str | None = None


async def update_profile(conn: Connection, account_id: int, changes: ProfileChanges) -> None:
    values: dict[str, Any] = {}
    if changes.display_name is not None:
        if len(changes.display_name) > 100:
            raise ValidationFailed("Display name is too long (maximum is 100 characters)")
        values["display_name"] = changes.display_name
    if changes.note is not None:
        if len(changes.note) > 500:
            raise ValidationFailed("Note is too long (maximum is 500 characters)")
        values["note"] = changes.note
    for flag in ("locked", "bot", "discoverable", "avatar", "header"):
        if getattr(changes, flag) is not None:
            values[flag] = getattr(changes, flag)
    if changes.fields is not None:
        if len(changes.fields) > 4:
            raise ValidationFailed("Fields: at most 4")
        for field in changes.fields:
            if len(field.get("name", "")) > 255 or len(field.get("value", "")) > 255:
                raise ValidationFailed("Fields: name and value are limited to 255 characters")
        values["fields"] = changes.fields
    user_values: dict[str, Any] = {}
    if changes.default_visibility is not None:
        if changes.default_visibility not in {"public", "unlisted", "private", "direct"}:
            raise ValidationFailed("Default visibility is not one of public, unlisted, private, direct")
        user_values["default_visibility"] = changes.default_visibility
    if changes.default_sensitive is not None:
        user_values["default_sensitive"] = changes.default_sensitive
    if changes.default_language is not None:
        if changes.default_language and changes.default_language not in post_text.LANGUAGE_CODES:
            raise ValidationFailed(f"Default language {changes.default_language!r} is not a supported ISO 639-1 code")
        user_values["default_language"] = changes.default_language or None
    if values:
        values["updated_at"] = datetime.now(UTC)
        await conn.execute(accounts.update().where(accounts.c.id == account_id).values(**values))
    if user_values:
        await conn.execute(users.update().where(users.c.account_id == account_id).values(**user_values))
    if values or user_values:
        await emit(conn, AccountUpdated(account_id=account_id))


@lru_cache(maxsize=4096)
def note_html(note: str) -> str:
    """A profile note as HTML (cached: every post in a timeline renders its author)."""
    return post_text.plain(note) if note else ""


async def set_suspended(conn: Connection, account_id: int, suspended: bool) -> None:
    row = await get_account(conn, account_id)
    if row.erased_at is not None:
        raise ValidationFailed("This account was erased by its holder and cannot be reinstated")
    await conn.execute(
        accounts.update()
        .where(accounts.c.id == account_id)
        .values(suspended_at=datetime.now(UTC) if suspended else None)
    )
    await emit(conn, AccountSuspended(account_id) if suspended else AccountUnsuspended(account_id))


async def get_user(conn: Connection, account_id: int) -> UserRow:
    row = (await conn.execute(select(users).where(users.c.account_id == account_id))).first()
    if row is None:
        raise NotFound()
    return cast(UserRow, row)


# The actions and reads the API calls: each owns its transaction, in the context's home region.

async def visible_account(ctx: Context, account_id: int) -> AccountRow:
    """An account as anyone may see it: a suspended one is not found."""
    async with ctx.db.read() as conn:
        row = await get_account(conn, account_id)
    if row.suspended_at is not None:
        raise NotFound()
    return row


async def lookup_account(ctx: Context, acct: str) -> AccountRow:
    """``alice`` or ``alice@this.domain``; other domains, unknown and suspended accounts are not found."""
    async with ctx.db.read() as conn:
        return await lookup(conn, acct, ctx.domain)


@dataclass(frozen=True)
class Credential:
    """The signed-in person's own account: the public row, their private settings, pending follow requests."""

    account: AccountRow
    user: UserRow
    follow_requests: int


async def credential(ctx: Context, account_id: int) -> Credential:
    async with ctx.db.read() as conn:
        row = await get_account(conn, account_id)
        user = await get_user(conn, account_id)
        pending = await count_follow_requests(conn, account_id)
    return Credential(row, user, pending)


async def posting_defaults(ctx: Context, account_id: int) -> UserRow:
    """The person's private settings row (default visibility, sensitivity, language)."""
    async with ctx.db.read() as conn:
        return await get_user(conn, account_id)


PROFILE_IMAGES = {"avatar": ("avatars", (400, 400), True), "header": ("headers", (1500, 500), False)}


async def _store_profile_image(ctx: Context, which: str, data: bytes) -> str:
    kind, box, crop = PROFILE_IMAGES[which]
    encoded = await asyncio.to_thread(process_profile_image, data, ctx.settings.max_avatar_bytes, box, crop)
    return await asyncio.to_thread(storage(ctx).put, encoded.data, encoded.extension, kind)


async def update_credentials(ctx: Context, account_id: int, changes: ProfileChanges,
                             images: dict[str, bytes] | None = None) -> Credential:
    """Change a profile; ``images`` ("avatar", "header") are decoded and checked before anything is written."""
    for which, data in (images or {}).items():
        setattr(changes, which, await _store_profile_image(ctx, which, data))
    async with ctx.db.write() as conn:
        await update_profile(conn, account_id, changes)
    ctx.db.wake()
    return await credential(ctx, account_id)
