"""The social events: accounts, posts, likes, bookmarks, pins, follows, follow requests, blocks, mutes,
notifications dismissed and reading positions.

One definition per event, shared by its producer (the action in ``social/*.py`` that emits it), its
consumers (``social/consumers.py``, ``feeds/trending.py``, ``feeds/similar.py``) and its replication
rule (``social/replication.py``). A field added to an event later gets a default, so rows stored
before it still decode. Events about private data are ``private``: they stay in their home region.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from stoa.store.events import Event

# Accounts. Each replicates by copying the account's row to the other regions.


@dataclass(frozen=True)
class AccountCreated(Event, name="account.created"):
    account_id: int
    region: str | None = None


@dataclass(frozen=True)
class AccountUpdated(Event, name="account.updated"):
    account_id: int


@dataclass(frozen=True)
class AccountSuspended(Event, name="account.suspended"):
    account_id: int


@dataclass(frozen=True)
class AccountUnsuspended(Event, name="account.unsuspended"):
    account_id: int


@dataclass(frozen=True)
class AccountErased(Event, name="account.erased"):
    account_id: int


@dataclass(frozen=True)
class AccountCounted(Event, name="account.counted"):
    """The account's home region changed its public counts on behalf of another region."""

    account_id: int


# Posts.


@dataclass(frozen=True)
class StatusCreated(Event, name="status.created"):
    """A post, a reply (``in_reply_to_*``) or a boost (``reblog_of_*``; no text, mentions or tags)."""

    status_id: int
    account_id: int
    visibility: str
    mentions: list[int] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)  # lower-cased
    in_reply_to_id: int | None = None
    in_reply_to_account_id: int | None = None
    reblog_of_id: int | None = None
    reblog_of_account_id: int | None = None
    language: str | None = None


@dataclass(frozen=True)
class StatusUpdated(Event, name="status.updated"):
    status_id: int
    account_id: int
    visibility: str | None = None
    new_mentions: list[int] = field(default_factory=list)
    dropped_mentions: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class StatusDeleted(Event, name="status.deleted"):
    status_id: int
    account_id: int
    visibility: str | None = None
    reblog_of_id: int | None = None
    in_reply_to_id: int | None = None


@dataclass(frozen=True)
class StatusCounted(Event, name="status.counted"):
    """The post's home region changed its public counts on behalf of another region."""

    status_id: int
    account_id: int


@dataclass(frozen=True)
class FavouriteCreated(Event, name="favourite.created"):
    """A like. The like itself is private (no row leaves the liker's region), but the event travels to
    the post's home region, which keeps its count and notifies its author."""

    account_id: int
    status_id: int
    status_account_id: int | None = None  # the post's author; absent from the oldest rows


@dataclass(frozen=True)
class FavouriteDeleted(Event, name="favourite.deleted"):
    account_id: int
    status_id: int
    status_account_id: int | None = None


# Bookmarks, markers and dismissed notifications are the owner's private rows, read as stored on every
# request: nothing derived waits on them, and they never leave the owner's region.

_READ_AS_STORED = ("read from the owner's stored rows on every request: no projection to keep; a record for "
                   "replays and the data export")


@dataclass(frozen=True)
class BookmarkCreated(Event, name="bookmark.created", private=True, unconsumed=_READ_AS_STORED):
    account_id: int
    status_id: int


@dataclass(frozen=True)
class BookmarkDeleted(Event, name="bookmark.deleted", private=True, unconsumed=_READ_AS_STORED):
    account_id: int
    status_id: int


@dataclass(frozen=True)
class MarkerSaved(Event, name="marker.saved", private=True, unconsumed=_READ_AS_STORED):
    """Where the owner stopped reading a timeline (``home`` or ``notifications``)."""

    account_id: int
    timeline: str
    last_read_id: int


@dataclass(frozen=True)
class NotificationDismissed(Event, name="notification.dismissed", private=True):
    """One notification dismissed by its owner. The notification consumer deletes it again (by its
    ``dedupe_key``) when a replay has written it back."""

    account_id: int
    dedupe_key: str


@dataclass(frozen=True)
class NotificationsCleared(Event, name="notifications.cleared", private=True):
    """Every notification of the owner dismissed at once; replayed, it clears what came before it."""

    account_id: int


@dataclass(frozen=True)
class PinCreated(Event, name="pin.created"):
    """A post pinned to its author's profile (pins are public: the row replicates)."""

    account_id: int
    status_id: int


@dataclass(frozen=True)
class PinDeleted(Event, name="pin.deleted"):
    account_id: int
    status_id: int


# Follows and follow requests.


@dataclass(frozen=True)
class FollowCreated(Event, name="follow.created"):
    account_id: int
    target_account_id: int


@dataclass(frozen=True)
class FollowDeleted(Event, name="follow.deleted"):
    account_id: int
    target_account_id: int


@dataclass(frozen=True)
class FollowUpdated(Event, name="follow.updated"):
    """The follower changed the options of an existing follow (boosts shown, new posts notified)."""

    account_id: int
    target_account_id: int
    show_reblogs: bool
    notify: bool


@dataclass(frozen=True)
class FollowRequestCreated(Event, name="follow_request.created"):
    account_id: int
    target_account_id: int


@dataclass(frozen=True)
class FollowRequestWithdrawn(Event, name="follow_request.withdrawn"):
    account_id: int
    target_account_id: int


@dataclass(frozen=True)
class FollowRequestAuthorized(Event, name="follow_request.authorized"):
    account_id: int  # the requester
    target_account_id: int  # the locked account that answered


@dataclass(frozen=True)
class FollowRequestRejected(Event, name="follow_request.rejected"):
    account_id: int
    target_account_id: int


# Blocks and mutes. A mute is private and never leaves its region. A block is private too, but the blocked
# person's region must enforce it (no following back, no seeing or answering the blocker's posts there):
# it travels to that one region only, as a copy held for the blocked person — as Mastodon sends a Block
# activity to the blocked person's server.

_UNDO = ("nothing derived comes back when it is lifted: posts skipped meanwhile are not restored to "
         "home timelines (as in Mastodon); recorded for federation (an Undo activity) and for replays")


@dataclass(frozen=True)
class BlockCreated(Event, name="block.created"):
    account_id: int
    target_account_id: int


@dataclass(frozen=True)
class BlockDeleted(Event, name="block.deleted"):
    account_id: int
    target_account_id: int


@dataclass(frozen=True)
class MuteCreated(Event, name="mute.created", private=True):
    account_id: int
    target_account_id: int


@dataclass(frozen=True)
class MuteDeleted(Event, name="mute.deleted", private=True, unconsumed=_UNDO):
    account_id: int
    target_account_id: int
