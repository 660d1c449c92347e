"""The shapes of the rows the social domain hands to its callers: an account, a person's settings, a post.

They are the store's rows (SQLAlchemy ``Row`` objects, read by attribute); these Protocols name the
attributes callers may rely on, so that a serializer reading a column that does not exist, or reading
one with the wrong type, fails the type check instead of a request.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol


class AccountRow(Protocol):
    """A row of ``accounts``: a local or replicated profile with its public counts."""

    id: int
    username: str
    domain: str | None
    display_name: str
    note: str
    fields: list[dict[str, Any]] | None
    avatar: str | None
    header: str | None
    locked: bool
    bot: bool
    discoverable: bool
    region: str
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: datetime | None
    created_at: datetime
    updated_at: datetime
    suspended_at: datetime | None
    erased_at: datetime | None


class UserRow(Protocol):
    """A row of ``users``: a local person's private settings."""

    account_id: int
    email: str
    role: str
    locale: str
    default_visibility: str
    default_sensitive: bool
    default_language: str | None
    sign_up_ip: str | None
    created_at: datetime


class StatusRow(Protocol):
    """A row of ``statuses``: a post, a reply or a boost (``reblog_of_id``), with its public counts."""

    id: int
    account_id: int
    text: str
    content: str
    spoiler_text: str
    sensitive: bool
    visibility: str
    language: str | None
    in_reply_to_id: int | None
    in_reply_to_account_id: int | None
    reblog_of_id: int | None
    conversation_id: int | None
    app_id: int | None
    held_for_id: int | None
    replies_count: int
    reblogs_count: int
    favourites_count: int
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
