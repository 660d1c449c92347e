"""Every table Stoa stores, each classified once for data residency.

``info["privacy"]`` says what a table holds:

* ``private`` — a person's private data (credentials, behaviour, DMs, mutes,
  blocks, bookmarks, notifications...). ``info["owner"]`` names the column that
  holds the owning account; the row belongs in that account's home region only.
* ``public`` — profiles, public posts, the public follow graph, public counts:
  written in the author's home region and replicated read-only elsewhere.
  ``statuses`` is public except rows with ``visibility = 'direct'``, which are
  private to their author (``info["private_when"]``).

A private row can concern two people homed in different regions: a direct post
and its recipient, a follow request and the locked account it asks. Each keeps
their own copy in their own region; the recipient's copy names them in
``info["holder"]`` (``held_for_id``), and it is the holder's home region that
the row must be in. ``stoa.store.replication`` delivers those copies.
* ``local`` — rows of one region that are never replicated: operational rows (the
  event outbox, consumer cursors, registered client apps) and the region's
  transparency log, which is public to read but belongs to the region it audits.

The residency checks (``stoa residency check``) read this classification; a
table without it fails the unit tests.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = MetaData(naming_convention=NAMING)

ID = BigInteger


def _ts(name: str, nullable: bool = False) -> Column[object]:
    return Column(name, DateTime(timezone=True), nullable=nullable)


accounts = Table(
    "accounts",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("username", String(30), nullable=False),
    Column("username_lower", String(30), nullable=False, unique=True),
    Column("domain", String(255), nullable=True),
    Column("display_name", String(100), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("fields", JSON, nullable=False, default=list),
    Column("avatar", String(255), nullable=True),
    Column("header", String(255), nullable=True),
    Column("locked", Boolean, nullable=False, default=False),
    Column("bot", Boolean, nullable=False, default=False),
    Column("discoverable", Boolean, nullable=False, default=True),
    Column("region", String(32), nullable=False),
    Column("followers_count", Integer, nullable=False, default=0),
    Column("following_count", Integer, nullable=False, default=0),
    Column("statuses_count", Integer, nullable=False, default=0),
    Column("last_status_at", DateTime(timezone=True), nullable=True),
    _ts("created_at"),
    _ts("updated_at"),
    _ts("suspended_at", nullable=True),
    _ts("erased_at", nullable=True),  # the holder erased the account: a tombstone that keeps the name taken
    Index("ix_accounts_followers_count", "followers_count"),  # follow suggestions: the most followed
    info={"privacy": "public"},
)

users = Table(
    "users",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("email", String(255), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False, default="user"),
    Column("locale", String(16), nullable=False, default="en"),
    Column("default_visibility", String(16), nullable=False, default="public"),
    Column("default_sensitive", Boolean, nullable=False, default=False),
    Column("default_language", String(8), nullable=True),
    Column("sign_up_ip", String(64), nullable=True),
    _ts("created_at"),
    info={"privacy": "private", "owner": "account_id"},
)

apps = Table(
    "apps",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("name", String(255), nullable=False),
    Column("website", String(1024), nullable=True),
    Column("redirect_uris", Text, nullable=False),
    Column("scopes", String(1024), nullable=False),
    Column("client_id", String(64), nullable=False, unique=True),
    Column("client_secret", String(64), nullable=False),
    _ts("created_at"),
    info={"privacy": "local"},
)

oauth_codes = Table(
    "oauth_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=False),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("scopes", String(1024), nullable=False),
    Column("code_challenge", String(128), nullable=True),
    Column("code_challenge_method", String(16), nullable=True),
    _ts("created_at"),
    _ts("used_at", nullable=True),
    info={"privacy": "private", "owner": "account_id"},
)

oauth_tokens = Table(
    "oauth_tokens",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("app_id", ID, ForeignKey("apps.id", ondelete="CASCADE"), nullable=True),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=True),
    Column("scopes", String(1024), nullable=False),
    # The authorization code this token was issued for (its hash, as in oauth_codes): a replayed code
    # revokes it (RFC 6749 §4.1.2). Private like the rest of the row; NULL for other grants.
    Column("code_hash", String(64), nullable=True, index=True),
    _ts("created_at"),
    _ts("revoked_at", nullable=True),
    info={"privacy": "private", "owner": "account_id"},
)

statuses = Table(
    "statuses",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False, default=""),
    Column("content", Text, nullable=False, default=""),
    Column("spoiler_text", Text, nullable=False, default=""),
    Column("sensitive", Boolean, nullable=False, default=False),
    Column("visibility", String(16), nullable=False),
    Column("language", String(8), nullable=True),
    Column("in_reply_to_id", ID, nullable=True),
    Column("in_reply_to_account_id", ID, nullable=True),
    Column("reblog_of_id", ID, nullable=True),
    Column("conversation_id", ID, nullable=True),
    Column("app_id", ID, nullable=True),
    # A direct post's copy in a recipient's home region is held for that recipient (see ``holder``).
    Column("held_for_id", ID, nullable=True, index=True),
    Column("replies_count", Integer, nullable=False, default=0),
    Column("reblogs_count", Integer, nullable=False, default=0),
    Column("favourites_count", Integer, nullable=False, default=0),
    _ts("created_at"),
    _ts("edited_at", nullable=True),
    _ts("deleted_at", nullable=True),
    Index("ix_statuses_account_id_id", "account_id", "id"),
    Index("ix_statuses_in_reply_to_id", "in_reply_to_id"),
    Index("ix_statuses_reblog_of_id", "reblog_of_id"),
    Index("ix_statuses_visibility_id", "visibility", "id"),
    info={"privacy": "public", "private_when": "{row}.visibility = 'direct'", "owner": "account_id",
          "holder": "held_for_id", "holder_party": "EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = {row}.id "
                                                   "AND m.account_id = {row}.held_for_id)"},
)

media_attachments = Table(
    "media_attachments",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("status_id", ID, nullable=True, index=True),
    Column("type", String(16), nullable=False),  # image, video, gifv
    Column("file", String(255), nullable=True, index=True),  # storage key; NULL while processing
    Column("preview", String(255), nullable=True, index=True),
    Column("content_type", String(64), nullable=False),
    Column("meta", JSON, nullable=False),
    Column("blurhash", String(64), nullable=True),
    Column("description", Text, nullable=False, default=""),
    Column("focus_x", Float, nullable=False, default=0.0),
    Column("focus_y", Float, nullable=False, default=0.0),
    _ts("created_at"),
    # Video and animated GIF are processed by a durable job (stoa.media.jobs): processing → ready | failed.
    Column("state", String(16), nullable=False, server_default="ready"),
    Column("error", Text, nullable=True),
    Column("source", String(255), nullable=True),  # the upload as received, kept until processed
    Column("source_sha256", String(64), nullable=True, index=True),  # the same upload twice is processed once
    Index("ix_media_attachments_account_id", "account_id", "id"),
    Index("ix_media_attachments_state", "state", "id"),
    # Unattached uploads are their uploader's private data; attached, they share the post's fate.
    info={"privacy": "public", "private_when": "{row}.status_id IS NULL", "owner": "account_id"},
)

status_edits = Table(
    "status_edits",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("status_id", ID, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("account_id", ID, nullable=False),
    Column("text", Text, nullable=False),
    Column("content", Text, nullable=False),
    Column("spoiler_text", Text, nullable=False),
    Column("sensitive", Boolean, nullable=False),
    _ts("created_at"),
    info={"privacy": "public", "owner": "account_id"},
)

mentions = Table(
    "mentions",
    metadata,
    Column("status_id", ID, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_mentions_account_id", "account_id"),
    info={"privacy": "public"},
)

tags = Table(
    "tags",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("name", String(255), nullable=False),
    Column("name_lower", String(255), nullable=False, unique=True),
    _ts("created_at"),
    info={"privacy": "public"},
)

status_tags = Table(
    "status_tags",
    metadata,
    Column("tag_id", ID, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Column("status_id", ID, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_status_tags_status_id", "status_id"),
    info={"privacy": "public"},
)

follows = Table(
    "follows",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("target_account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("show_reblogs", Boolean, nullable=False, default=True),
    Column("notify", Boolean, nullable=False, default=False),
    _ts("created_at"),
    UniqueConstraint("account_id", "target_account_id", name="uq_follows_pair"),
    Index("ix_follows_target_account_id", "target_account_id", "account_id"),
    info={"privacy": "public", "owner": "account_id"},
)

follow_requests = Table(
    "follow_requests",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("target_account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("show_reblogs", Boolean, nullable=False, default=True),
    Column("notify", Boolean, nullable=False, default=False),
    _ts("created_at"),
    # The copy in the target's home region, when that is not the requester's, is held for the target.
    Column("held_for_id", ID, nullable=True, index=True),
    UniqueConstraint("account_id", "target_account_id", name="uq_follow_requests_pair"),
    Index("ix_follow_requests_target_account_id", "target_account_id", "id"),
    info={"privacy": "private", "owner": "account_id", "holder": "held_for_id",
          "holder_party": "{row}.held_for_id = {row}.target_account_id"},
)

blocks = Table(
    "blocks",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("target_account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    _ts("created_at"),
    # The copy in the blocked person's home region, when that is not the blocker's, is held for them.
    Column("held_for_id", ID, nullable=True, index=True),
    UniqueConstraint("account_id", "target_account_id", name="uq_blocks_pair"),
    Index("ix_blocks_target_account_id", "target_account_id"),
    info={"privacy": "private", "owner": "account_id", "holder": "held_for_id",
          "holder_party": "{row}.held_for_id = {row}.target_account_id"},
)

mutes = Table(
    "mutes",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("target_account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("hide_notifications", Boolean, nullable=False, default=True),
    _ts("expires_at", nullable=True),
    _ts("created_at"),
    UniqueConstraint("account_id", "target_account_id", name="uq_mutes_pair"),
    info={"privacy": "private", "owner": "account_id"},
)

favourites = Table(
    "favourites",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("status_id", ID, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False),
    _ts("created_at"),
    UniqueConstraint("account_id", "status_id", name="uq_favourites_pair"),
    Index("ix_favourites_status_id", "status_id"),
    info={"privacy": "private", "owner": "account_id"},
)

bookmarks = Table(
    "bookmarks",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("status_id", ID, ForeignKey("statuses.id", ondelete="CASCADE"), nullable=False),
    _ts("created_at"),
    UniqueConstraint("account_id", "status_id", name="uq_bookmarks_pair"),
    info={"privacy": "private", "owner": "account_id"},
)

pins = Table(
    "pins",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("status_id", ID, ForeignKey("statuses.id", ondelete="CASCADE"), primary_key=True),
    _ts("created_at"),
    info={"privacy": "public", "owner": "account_id"},
)

feed_preferences = Table(
    "feed_preferences",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # "less_status", "less_author", "less_tag", "reset"
    Column("value", String(255), nullable=False),
    _ts("created_at"),
    UniqueConstraint("account_id", "kind", "value", name="uq_feed_preferences_entry"),
    info={"privacy": "private", "owner": "account_id"},
)

views = Table(
    "views",
    metadata,
    # What a person saw in their feeds, how long they watched, whether they skipped: behavioural
    # signals, private to them (For You reads them; export and erasure include them).
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("status_id", ID, primary_key=True, autoincrement=False),
    Column("views", Integer, nullable=False, default=1),
    Column("watched_ms", BigInteger, nullable=False, default=0),
    Column("skipped", Boolean, nullable=False, default=False),
    _ts("first_seen_at"),
    _ts("last_seen_at"),
    Index("ix_views_account_id_last_seen_at", "account_id", "last_seen_at"),
    info={"privacy": "private", "owner": "account_id"},
)

home_feed = Table(
    "home_feed",
    metadata,
    Column("account_id", ID, primary_key=True, autoincrement=False),
    Column("status_id", ID, primary_key=True, autoincrement=False),
    Column("author_id", ID, nullable=False),
    # By post, to remove a deleted post from every timeline without scanning them all. Unfollows
    # delete by (account, author) through the primary key's account prefix: a timeline is short.
    Index("ix_home_feed_status_id", "status_id"),
    info={"privacy": "private", "owner": "account_id"},
)

notifications = Table(
    "notifications",
    metadata,
    Column("id", ID, primary_key=True, autoincrement=False),
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("type", String(32), nullable=False),
    Column("from_account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    Column("status_id", ID, nullable=True),
    Column("dedupe_key", String(128), nullable=False),
    _ts("created_at"),
    UniqueConstraint("account_id", "dedupe_key", name="uq_notifications_dedupe"),
    Index("ix_notifications_account_id_id", "account_id", "id"),
    info={"privacy": "private", "owner": "account_id"},
)

markers = Table(
    "markers",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("timeline", String(16), primary_key=True),
    Column("last_read_id", ID, nullable=False),
    Column("version", Integer, nullable=False, default=0),
    _ts("updated_at"),
    info={"privacy": "private", "owner": "account_id"},
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("account_id", ID, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("status_id", ID, nullable=False),
    _ts("created_at"),
    info={"privacy": "private", "owner": "account_id"},
)

# Full-text search documents, maintained by the search-index consumer. The
# ``document`` column holds the normalised, stemmed terms (social.search_text);
# SQLite indexes it with an FTS5 table, PostgreSQL with a GIN tsvector index.
status_search = Table(
    "status_search",
    metadata,
    Column("status_id", ID, primary_key=True, autoincrement=False),
    Column("document", Text, nullable=False),
    info={"privacy": "public"},
)

# For You's trending source, maintained by its consumer (stoa.feeds.trending): the public posts of the
# last two days that someone engaged with, by language, with their engagement — so the top of a
# language is an index range, not a sort of every recent post.
trending_posts = Table(
    "trending_posts",
    metadata,
    Column("status_id", ID, primary_key=True, autoincrement=False),
    Column("language", String(8), nullable=False),
    Column("engagement", Integer, nullable=False),
    Column("regional_engagement", Integer, nullable=False, default=0),  # by people homed in this region
    Index("ix_trending_posts_language_engagement", "language", "engagement", "status_id"),
    Index("ix_trending_posts_language_regional", "language", "regional_engagement", "status_id"),
    info={"privacy": "public"},
)

# For You's content-similarity source (stoa.feeds.similar): each public post's text as a multilingual
# sentence vector (float16), written by its consumer; each server process keeps the newest in an ANN index.
status_vectors = Table(
    "status_vectors",
    metadata,
    Column("status_id", ID, primary_key=True, autoincrement=False),
    Column("vector", LargeBinary, nullable=False),
    info={"privacy": "public"},
)

events = Table(
    "events",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("type", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    _ts("created_at"),
    info={"privacy": "local"},
)

consumer_cursors = Table(
    "consumer_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False, default=0),
    _ts("updated_at"),
    info={"privacy": "local"},
)

# Durable jobs (stoa.store.jobs): leased, retried with backoff, dead-lettered. A job's payload may name
# private rows, so jobs stay in the region that queued them.
jobs = Table(
    "jobs",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("kind", String(64), nullable=False),
    Column("payload", JSON, nullable=False),
    Column("state", String(16), nullable=False),  # queued → running → (deleted when done) | queued again | dead
    Column("key", String(255), nullable=True),  # what the per-key concurrency limit counts (a remote host...)
    Column("dedupe_key", String(255), nullable=True),  # at most one live job per dedupe key
    Column("attempts", Integer, nullable=False, server_default="0"),
    _ts("run_after"),  # not before
    _ts("lease_until", nullable=True),  # its worker holds it until then; silent past it, another retries
    Column("lease_token", String(32), nullable=True),  # only the holder of the lease settles the job
    Column("last_error", Text, nullable=True),
    _ts("created_at"),
    _ts("finished_at", nullable=True),  # when it was given up
    Index("ix_jobs_state_run_after", "state", "run_after"),
    Index("ix_jobs_key_state", "key", "state"),
    Index("ix_jobs_dedupe_key_live", "dedupe_key", unique=True,
          sqlite_where=text("state IN ('queued', 'running')"),
          postgresql_where=text("state IN ('queued', 'running')")),
    info={"privacy": "local"},
)

# When each periodic job last ran (stoa.store.jobs.Scheduler), so several workers enqueue it once a period.
job_schedules = Table(
    "job_schedules",
    metadata,
    Column("name", String(64), primary_key=True),
    _ts("last_run_at"),
    info={"privacy": "local"},
)

# Replicated events whose count change this region applied (stoa.social.consumers.CounterKeeper): a
# like from another region leaves no row here to recount, so the event id is what makes a replay of
# the outbox apply it once.
counted_events = Table(
    "counted_events",
    metadata,
    Column("event_id", BigInteger, primary_key=True, autoincrement=False),
    _ts("created_at"),
    info={"privacy": "local"},
)


# The transparency log (RFC 9162): entries, the hashes of complete subtrees, and signed tree heads.
transparency_entries = Table(
    "transparency_entries",
    metadata,
    Column("position", BigInteger, primary_key=True, autoincrement=False),
    Column("leaf_input", LargeBinary, nullable=False),  # the exact bytes hashed into the tree
    Column("subject_account_id", ID, nullable=True, index=True),
    _ts("created_at"),
    Column("action", String(64), nullable=True),  # copied from the entry, to find e.g. the last ranking config
    Index("ix_transparency_entries_action", "action", "position"),
    info={"privacy": "local"},
)

transparency_nodes = Table(
    "transparency_nodes",
    metadata,
    # level << 48 | position: one integer key, so a proof's nodes come back from one IN list.
    Column("node", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
    info={"privacy": "local"},
)

transparency_heads = Table(
    "transparency_heads",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root_hash", LargeBinary(32), nullable=False),
    Column("timestamp_ms", BigInteger, nullable=False),
    Column("signature", LargeBinary(64), nullable=False),
    info={"privacy": "local"},
)


store_identity = Table(
    "store_identity",
    metadata,
    # The region this database belongs to, written once by `stoa migrate`. The residency guards
    # (stoa.store.guards) compare every private row's owner with it.
    Column("region", String(32), primary_key=True),
    _ts("created_at"),
    info={"privacy": "local"},
)


def classification() -> dict[str, str]:
    """Table name -> privacy class, for the residency tools and the docs."""
    return {name: str(table.info["privacy"]) for name, table in metadata.tables.items()}
