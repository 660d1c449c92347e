"""The Mastodon entities (and Stoa's extensions) as typed models, for the OpenAPI description only.

The serializers (``serializers.py``) build plain dicts for speed; these models say what those dicts
hold — every key they always emit is required, keys they sometimes emit are optional, and a value
that can be ``null`` is nullable — so that a client generator or schemathesis can hold the server
to it. Keep them beside the serializers when either changes.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Visibility = Literal["public", "unlisted", "private", "direct"]
NotificationType = Literal["mention", "status", "reblog", "follow", "follow_request", "favourite", "poll", "update"]


class Entity(BaseModel):
    model_config = ConfigDict(extra="allow")


class Error(Entity):
    """Mastodon's error shape: a message, and for OAuth errors a description."""

    error: str
    error_description: str | None = None


class Empty(BaseModel):
    """An empty object: what Mastodon answers to actions with nothing to report."""

    model_config = ConfigDict(extra="forbid")


NothingYet = Annotated[list[Any], Field(max_length=0, description="Always empty: not a feature of Stoa yet")]


class CustomEmoji(Entity):
    shortcode: str
    url: str
    static_url: str
    visible_in_picker: bool


class AccountField(Entity):
    name: str
    value: str
    verified_at: str | None


class AccountStoa(Entity):
    """Stoa extension: where the account's private data lives."""

    region: str
    home_domain: str


class Role(Entity):
    id: str
    name: str
    color: str
    permissions: str
    highlighted: bool


class Source(Entity):
    privacy: Visibility
    sensitive: bool
    language: str
    note: str
    fields: list[AccountField]
    follow_requests_count: int
    hide_collections: bool
    discoverable: bool
    indexable: bool


class Account(Entity):
    id: str
    username: str
    acct: str
    display_name: str
    locked: bool
    bot: bool
    discoverable: bool
    indexable: bool
    group: bool
    created_at: str
    note: str
    url: str
    uri: str
    avatar: str
    avatar_static: str
    header: str
    header_static: str
    followers_count: int
    following_count: int
    statuses_count: int
    last_status_at: str | None = Field(description="A date (YYYY-MM-DD), as in Mastodon")
    hide_collections: bool
    noindex: bool
    emojis: list[CustomEmoji]
    roles: list[Role]
    fields: list[AccountField]
    stoa: AccountStoa
    suspended: bool | None = None


class CredentialAccount(Account):
    """The signed-in person's own account, with their posting defaults."""

    source: Source
    role: Role


class MediaFocus(Entity):
    x: float
    y: float


class MediaMeta(Entity):
    focus: MediaFocus


class MediaAttachment(Entity):
    id: str
    type: Literal["image", "video", "gifv", "audio", "unknown"]
    url: str | None = Field(description="null while a video is processed")
    preview_url: str | None
    remote_url: None
    preview_remote_url: None
    text_url: None
    meta: MediaMeta
    description: str | None
    blurhash: str | None


class StatusApplication(Entity):
    name: str
    website: str | None


class StatusMention(Entity):
    id: str
    username: str
    acct: str
    url: str


class StatusTag(Entity):
    name: str
    url: str


class Status(Entity):
    id: str
    uri: str
    url: str
    created_at: str
    edited_at: str | None
    content: str
    visibility: Visibility
    sensitive: bool
    spoiler_text: str
    media_attachments: list[MediaAttachment]
    application: StatusApplication | None
    mentions: list[StatusMention]
    tags: list[StatusTag]
    emojis: list[CustomEmoji]
    quotes_count: int
    in_reply_to_id: str | None
    in_reply_to_account_id: str | None
    poll: None = Field(description="Stoa has no polls")
    card: None
    language: str | None
    text: str | None = Field(description="The source text, only in the answer to DELETE (delete and redraft)")
    muted: bool
    filtered: list[Any]
    account: Account
    reblogs_count: int
    favourites_count: int
    replies_count: int
    reblog: Status | None
    favourited: bool
    reblogged: bool
    bookmarked: bool
    pinned: bool | None = None


class StatusEdit(Entity):
    content: str
    spoiler_text: str
    sensitive: bool
    created_at: str
    account: Account
    poll: None
    media_attachments: list[MediaAttachment]
    emojis: list[CustomEmoji]


class StatusSource(Entity):
    id: str
    text: str
    spoiler_text: str


class Context(Entity):
    ancestors: list[Status]
    descendants: list[Status]


class Relationship(Entity):
    id: str
    following: bool
    showing_reblogs: bool
    notifying: bool
    languages: list[str] | None
    followed_by: bool
    blocking: bool
    blocked_by: bool
    muting: bool
    muting_notifications: bool
    requested: bool
    requested_by: bool
    domain_blocking: bool
    endorsed: bool
    note: str


class Notification(Entity):
    id: str
    type: NotificationType
    group_key: str
    created_at: str
    account: Account
    status: Status | None


class Tag(Entity):
    name: str
    url: str
    history: list[Any]
    following: bool


class Search(Entity):
    accounts: list[Account]
    statuses: list[Status]
    hashtags: list[Tag]


class Marker(Entity):
    last_read_id: str
    version: int
    updated_at: str


class Markers(Entity):
    home: Marker | None = None
    notifications: Marker | None = None


class Suggestion(Entity):
    source: str
    sources: list[str]
    account: Account


class Application(Entity):
    id: str
    name: str
    website: str | None
    scopes: list[str]
    redirect_uri: str
    redirect_uris: list[str]
    vapid_key: str


class CredentialApplication(Application):
    client_id: str
    client_secret: str
    client_secret_expires_at: int


class Token(Entity):
    access_token: str
    token_type: Literal["Bearer"]
    scope: str
    created_at: int


class AuthorizationServer(Entity):
    """RFC 8414 metadata, as Mastodon 4.3 publishes it."""

    issuer: str
    service_documentation: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    app_registration_endpoint: str
    scopes_supported: list[str]
    response_types_supported: list[str]
    response_modes_supported: list[str]
    grant_types_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    code_challenge_methods_supported: list[str]


class Preferences(Entity):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    default_visibility: Visibility = Field(alias="posting:default:visibility")
    default_sensitive: bool = Field(alias="posting:default:sensitive")
    default_language: str | None = Field(alias="posting:default:language")
    expand_media: str = Field(alias="reading:expand:media")
    expand_spoilers: bool = Field(alias="reading:expand:spoilers")


# --- the instance ---------------------------------------------------------------------------------

class InstanceStatusesConfiguration(Entity):
    max_characters: int
    max_media_attachments: int
    characters_reserved_per_url: int


class InstanceMediaConfiguration(Entity):
    supported_mime_types: list[str]
    image_size_limit: int
    image_matrix_limit: int
    video_size_limit: int
    video_frame_rate_limit: int
    video_matrix_limit: int
    description_limit: int


class InstanceConfiguration(Entity):
    urls: dict[str, str]
    accounts: dict[str, int]
    statuses: InstanceStatusesConfiguration
    media_attachments: InstanceMediaConfiguration
    polls: dict[str, int]
    translation: dict[str, bool]


class InstanceStats(Entity):
    user_count: int
    status_count: int
    domain_count: int


class InstanceV1(Entity):
    uri: str
    title: str
    short_description: str
    description: str
    email: str
    version: str
    urls: dict[str, str]
    stats: InstanceStats
    thumbnail: str | None
    languages: list[str]
    registrations: bool
    approval_required: bool
    invites_enabled: bool
    configuration: InstanceConfiguration
    contact_account: Account | None
    rules: list[Any]


class InstanceRegistrations(Entity):
    enabled: bool
    approval_required: bool
    message: str | None


class InstanceContact(Entity):
    email: str
    account: Account | None


class InstanceStoa(Entity):
    """Stoa extension: the regions this server keeps data in."""

    regions: list[str]
    default_region: str


class Instance(Entity):
    domain: str
    title: str
    version: str
    source_url: str
    description: str
    usage: dict[str, dict[str, int]]
    thumbnail: dict[str, str]
    languages: list[str]
    configuration: InstanceConfiguration
    registrations: InstanceRegistrations
    api_versions: dict[str, int]
    contact: InstanceContact
    rules: list[Any]
    stoa: InstanceStoa


# --- Stoa extensions: For You ---------------------------------------------------------------------

class ModelRef(Entity):
    name: str
    sha256: str | None = Field(description="The trained model's digest; null before the first training")


class Contribution(Entity):
    name: str
    value: float
    weight: float
    contribution: float


class Explanation(Entity):
    """Why a post is (or is not) in the viewer's For You feed; ``in_feed`` says which keys follow."""

    status_id: str
    in_feed: bool
    mode: Literal["personalised", "none"]
    policy: list[str]
    sentence: str
    model: ModelRef
    position: int | None = None
    sources: list[str] | None = None
    features: list[Contribution] | None = None
    score: float | None = None
    predictions: dict[str, float] | None = None


class AccountCount(Entity):
    account_id: str
    engagements: int


class TagCount(Entity):
    tag: str
    engagements: int


class ShowLess(Entity):
    statuses: list[str]
    accounts: list[str]
    tags: list[str]


class LabelChoice(Entity):
    label: str
    meaning: str
    action: Literal["hide", "show"]


class SkippedAuthor(Entity):
    account_id: str
    skips: int


class Signals(Entity):
    """Everything the For You feed reads about the viewer."""

    languages: list[str]
    following_count: int
    author_affinity: list[AccountCount]
    tag_affinity: list[TagCount]
    show_less: ShowLess
    history_reset_at: str | None
    labels: list[LabelChoice]
    seen_posts: int
    skipped_authors: list[SkippedAuthor]
    affinity_window_days: int
    hidden_accounts: int


class Recorded(Entity):
    recorded: bool


class Erased(Entity):
    erased: bool


# --- Stoa extensions: the transparency log --------------------------------------------------------

class LogKey(Entity):
    region: str
    algorithm: Literal["Ed25519"]
    public_key: str


class TreeHead(Entity):
    region: str
    size: int
    timestamp: int
    root_hash: str
    signature: str
    public_key: str
    signature_algorithm: Literal["Ed25519"]
    signed_message: str


class LogEntry(Entity):
    position: int
    leaf_input: str
    leaf_hash: str
    entry: dict[str, Any]


class InclusionProof(Entity):
    position: int
    size: int
    leaf_hash: str
    path: list[str]


class ConsistencyProof(Entity):
    first: int
    second: int
    proof: list[str]


Status.model_rebuild()
