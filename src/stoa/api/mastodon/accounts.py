"""/api/v1/accounts and the lists around them (blocks, mutes)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from stoa.api.deps import Auth, client_ip, get_ctx, get_params, optional_auth, require, viewer
from stoa.api.mastodon import serializers as ser
from stoa.api.mastodon.entities import Account, CredentialAccount, Relationship, Status, Token, Visibility
from stoa.api.openapi import AccountPage, Flag, NumericId, Page, doc
from stoa.api.pagination import paginated
from stoa.api.params import Params, parse_id
from stoa.api.responses import JSON
from stoa.core.context import Context
from stoa.core.errors import Forbidden, ValidationFailed
from stoa.social import accounts, relationships, sessions, timelines
from stoa.social.views import listed_accounts
from stoa.store import ids

router = APIRouter()


class SignUpForm(BaseModel):
    username: str = Field(max_length=64)
    email: str = Field(max_length=255)
    password: str = Field(max_length=1024)
    agreement: Flag = Field(description="Must be true")
    display_name: str | None = Field(None, max_length=200)
    locale: str | None = Field(None, max_length=16)
    region: str | None = Field(None, max_length=32, description="Stoa: the account's home region (unknown: 422)")


class ProfileField(BaseModel):
    name: str
    value: str


class PostingDefaults(BaseModel):
    privacy: Visibility | None = None
    sensitive: Flag | None = None
    language: str | None = Field(None, max_length=16, description="ISO 639-1 code, or empty for none")


class ProfileForm(BaseModel):
    display_name: str | None = Field(None, max_length=100)
    note: str | None = Field(None, max_length=500)
    locked: Flag | None = None
    bot: Flag | None = None
    discoverable: Flag | None = None
    fields_attributes: list[ProfileField] | None = Field(None, max_length=4)
    source: PostingDefaults | None = None


class ProfileUpload(ProfileForm):
    avatar: bytes | None = Field(None, description="An image (cropped to 400x400)")
    header: bytes | None = Field(None, description="An image (fitted in 1500x500)")


SELF = (422,)  # "You cannot do this to yourself"
PROFILE_BODY = {"application/json": ProfileForm, "application/x-www-form-urlencoded": ProfileForm,
                "multipart/form-data": ProfileUpload}


class LookupQuery(BaseModel):
    acct: str = Field(max_length=300, description="username or username@domain")


class RelationshipsQuery(BaseModel):
    id: list[NumericId] | None = Field(None, max_length=100)


class AccountSearchQuery(BaseModel):
    q: str = Field(max_length=500)
    limit: int | None = Field(None, ge=1, le=80, description="Default 40; values outside the range are clamped")
    offset: int | None = Field(None, ge=0, le=10_000)


class AccountStatusesQuery(Page):
    pinned: Flag | None = None
    exclude_replies: Flag | None = None
    exclude_reblogs: Flag | None = None
    tagged: str | None = Field(None, max_length=100, description="Only posts with this hashtag")


class FollowForm(BaseModel):
    reblogs: Flag | None = Field(None, description="Show their boosts in the home timeline")
    notify: Flag | None = Field(None, description="Notify of their posts")


class MuteForm(BaseModel):
    notifications: Flag | None = Field(None, description="Mute their notifications too (default true)")
    duration: int | None = Field(None, ge=0, le=10 * 365 * 86400, description="Seconds; 0: for ever")


def account_json(ctx: Context, row: Any, source: Any = None, follow_requests: int = 0) -> dict[str, Any]:
    return ser.account(row, ctx.base_url, ctx.domain, source=source, follow_requests=follow_requests)


def credential_json(ctx: Context, own: accounts.Credential) -> JSON:
    """The signed-in person's own account, with its source (defaults) and pending follow requests."""
    return JSON(account_json(ctx, own.account, source=own.user, follow_requests=own.follow_requests))


async def accounts_page(request: Request, ctx: Context, pairs: list[tuple[int, int]]) -> JSON:
    rows = await listed_accounts(ctx, {a for _, a in pairs})
    items = [account_json(ctx, rows[a]) for _, a in pairs if a in rows]
    return paginated(request, items, [p for p, _ in pairs], ctx.base_url)


@router.post("/api/v1/accounts", **doc(Token, body=SignUpForm))
async def register(request: Request, auth: Auth = Depends(require("write:accounts", user=False)),
                   ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    if auth.account_id is not None:
        raise Forbidden("You are already signed in")
    new = accounts.NewAccount(
        username=params.required_str("username", 64),
        email=params.required_str("email", 255),
        password=params.required_str("password", 1024),
        display_name=params.text("display_name", "", 200) or "",
        locale=params.text("locale", "en", 16) or "en",
        region=params.text("region", None, 32),
        sign_up_ip=client_ip(request),
    )
    issued = await sessions.sign_up(ctx, new, auth.app_id, auth.scopes, agreed=bool(params.flag("agreement", False)))
    return JSON(issued.as_json())


@router.get("/api/v1/accounts/verify_credentials", **doc(CredentialAccount))
async def verify_credentials(auth: Auth = Depends(require("read:accounts")),
                             ctx: Context = Depends(get_ctx)) -> JSON:
    return credential_json(ctx, await accounts.credential(ctx, auth.user))


@router.patch("/api/v1/accounts/update_credentials", **doc(CredentialAccount, body=PROFILE_BODY))
async def update_credentials(auth: Auth = Depends(require("write:accounts")), ctx: Context = Depends(get_ctx),
                             params: Params = Depends(get_params)) -> JSON:
    changes = accounts.ProfileChanges(
        display_name=params.text("display_name", None, 200),
        note=params.text("note", None, 1000),
        locked=params.flag("locked"),
        bot=params.flag("bot"),
        discoverable=params.flag("discoverable"),
    )
    fields = params.raw("fields_attributes")
    if fields is not None:
        if isinstance(fields, dict):
            fields = [fields[k] for k in sorted(fields, key=lambda k: ids.parse(k) or 0)]
        if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
            raise ValidationFailed("fields_attributes must be a list of {name, value}")
        changes.fields = [{"name": str(f.get("name", "")), "value": str(f.get("value", ""))}
                          for f in fields if f.get("name") or f.get("value")]
    source = params.raw("source")
    if isinstance(source, dict):  # read with the same typed getters: a list or an object here is a 422
        defaults = Params(source)
        changes.default_visibility = defaults.text("privacy", None, 16)
        changes.default_sensitive = defaults.flag("sensitive")
        changes.default_language = defaults.text("language", None, 16)
    images = {}
    for key in ("avatar", "header"):
        upload = params.file(key)
        if upload is not None:  # one byte over the limit is enough to refuse it
            images[key] = await upload.read(ctx.settings.max_avatar_bytes + 1)
    return credential_json(ctx, await accounts.update_credentials(ctx, auth.user, changes, images))


@router.get("/api/v1/accounts/lookup", **doc(Account, query=LookupQuery, errors=(404,)))
async def lookup(auth: Auth | None = Depends(optional_auth), ctx: Context = Depends(get_ctx),
                 params: Params = Depends(get_params)) -> JSON:
    return JSON(account_json(ctx, await accounts.lookup_account(ctx, params.required_str("acct", 300))))


@router.get("/api/v1/accounts/relationships", **doc(list[Relationship], query=RelationshipsQuery))
async def get_relationships(auth: Auth = Depends(require("read:follows")), ctx: Context = Depends(get_ctx),
                            params: Params = Depends(get_params)) -> JSON:
    wanted = [n for n in (ids.parse(raw) for raw in params.items("id", max_items=100)) if n is not None]
    return JSON([ser.relationship(r) for r in await relationships.relationships_of(ctx, auth.user, wanted)])


@router.get("/api/v1/accounts/search", **doc(list[Account], query=AccountSearchQuery))
async def search_accounts(auth: Auth = Depends(require("read:accounts")), ctx: Context = Depends(get_ctx),
                          params: Params = Depends(get_params)) -> JSON:
    from stoa.social.search import search

    results = await search(ctx, auth.user, params.required_str("q", 500), "accounts",
                           params.integer("limit", 40, 1, 80) or 40, params.integer("offset", 0, 0, 10_000) or 0)
    return JSON([account_json(ctx, a) for a in results.accounts])


@router.get("/api/v1/accounts/{account_id}", **doc(Account))
async def get_account(account_id: str, ctx: Context = Depends(get_ctx)) -> JSON:
    return JSON(account_json(ctx, await accounts.visible_account(ctx, parse_id(account_id))))


@router.get("/api/v1/accounts/{account_id}/statuses", **doc(list[Status], query=AccountStatusesQuery))
async def account_statuses(request: Request, account_id: str, auth: Auth | None = Depends(optional_auth),
                           ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    from stoa.api.mastodon.statuses import statuses_page

    views = await timelines.account_statuses(
        ctx, viewer(auth), parse_id(account_id), params.page(),
        pinned=bool(params.flag("pinned", False)), exclude_replies=bool(params.flag("exclude_replies", False)),
        exclude_reblogs=bool(params.flag("exclude_reblogs", False)), tagged=params.text("tagged", None, 100))
    return statuses_page(request, ctx, views)


@router.get("/api/v1/accounts/{account_id}/followers", **doc(list[Account], query=AccountPage))
async def followers(request: Request, account_id: str, ctx: Context = Depends(get_ctx),
                    params: Params = Depends(get_params)) -> JSON:
    page = params.page(40, 80)
    pairs = await relationships.list_follows(ctx, parse_id(account_id), "followers", page)
    return await accounts_page(request, ctx, pairs)


@router.get("/api/v1/accounts/{account_id}/following", **doc(list[Account], query=AccountPage))
async def following(request: Request, account_id: str, ctx: Context = Depends(get_ctx),
                    params: Params = Depends(get_params)) -> JSON:
    page = params.page(40, 80)
    pairs = await relationships.list_follows(ctx, parse_id(account_id), "following", page)
    return await accounts_page(request, ctx, pairs)


async def _relationship(ctx: Context, viewer_id: int, target: int) -> JSON:
    return JSON(ser.relationship(await relationships.relationship_with(ctx, viewer_id, target)))


@router.post("/api/v1/accounts/{account_id}/follow", **doc(Relationship, body=FollowForm, errors=SELF))
async def follow(account_id: str, auth: Auth = Depends(require("write:follows")), ctx: Context = Depends(get_ctx),
                 params: Params = Depends(get_params)) -> JSON:
    target = parse_id(account_id)
    await relationships.follow(ctx, auth.user, target, params.flag("reblogs"), params.flag("notify"))
    return await _relationship(ctx, auth.user, target)


@router.post("/api/v1/accounts/{account_id}/unfollow", **doc(Relationship, errors=SELF))
async def unfollow(account_id: str, auth: Auth = Depends(require("write:follows")),
                   ctx: Context = Depends(get_ctx)) -> JSON:
    target = parse_id(account_id)
    await relationships.unfollow(ctx, auth.user, target)
    return await _relationship(ctx, auth.user, target)


@router.post("/api/v1/accounts/{account_id}/remove_from_followers", **doc(Relationship, errors=SELF))
async def remove_from_followers(account_id: str, auth: Auth = Depends(require("write:follows")),
                                ctx: Context = Depends(get_ctx)) -> JSON:
    target = parse_id(account_id)
    await relationships.remove_follower(ctx, auth.user, target)
    return await _relationship(ctx, auth.user, target)


@router.post("/api/v1/accounts/{account_id}/block", **doc(Relationship, errors=SELF))
async def block(account_id: str, auth: Auth = Depends(require("write:blocks")),
                ctx: Context = Depends(get_ctx)) -> JSON:
    target = parse_id(account_id)
    await relationships.block(ctx, auth.user, target)
    return await _relationship(ctx, auth.user, target)


@router.post("/api/v1/accounts/{account_id}/unblock", **doc(Relationship, errors=SELF))
async def unblock(account_id: str, auth: Auth = Depends(require("write:blocks")),
                  ctx: Context = Depends(get_ctx)) -> JSON:
    target = parse_id(account_id)
    await relationships.unblock(ctx, auth.user, target)
    return await _relationship(ctx, auth.user, target)


@router.post("/api/v1/accounts/{account_id}/mute", **doc(Relationship, body=MuteForm, errors=SELF))
async def mute(account_id: str, auth: Auth = Depends(require("write:mutes")), ctx: Context = Depends(get_ctx),
               params: Params = Depends(get_params)) -> JSON:
    target = parse_id(account_id)
    await relationships.mute(ctx, auth.user, target, params.flag("notifications", True) is not False,
                             params.integer("duration", 0, 0, 10 * 365 * 86400) or 0)
    return await _relationship(ctx, auth.user, target)


@router.post("/api/v1/accounts/{account_id}/unmute", **doc(Relationship, errors=SELF))
async def unmute(account_id: str, auth: Auth = Depends(require("write:mutes")),
                 ctx: Context = Depends(get_ctx)) -> JSON:
    target = parse_id(account_id)
    await relationships.unmute(ctx, auth.user, target)
    return await _relationship(ctx, auth.user, target)


@router.get("/api/v1/blocks", **doc(list[Account], query=AccountPage))
async def list_blocks(request: Request, auth: Auth = Depends(require("read:blocks")),
                      ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    page = params.page(40, 80)
    pairs = await relationships.list_blocks_or_mutes(ctx, auth.user, "blocks", page)
    return await accounts_page(request, ctx, pairs)


@router.get("/api/v1/mutes", **doc(list[Account], query=AccountPage))
async def list_mutes(request: Request, auth: Auth = Depends(require("read:mutes")),
                     ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    page = params.page(40, 80)
    pairs = await relationships.list_blocks_or_mutes(ctx, auth.user, "mutes", page)
    return await accounts_page(request, ctx, pairs)


@router.get("/api/v1/follow_requests", **doc(list[Account], query=AccountPage))
async def follow_requests(request: Request, auth: Auth = Depends(require("read:follows")),
                          ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    page = params.page(40, 80)
    pairs = await relationships.list_follow_requests(ctx, auth.user, page)
    return await accounts_page(request, ctx, pairs)


@router.post("/api/v1/follow_requests/{account_id}/authorize", **doc(Relationship))
async def authorize_follow_request(account_id: str, auth: Auth = Depends(require("write:follows")),
                                   ctx: Context = Depends(get_ctx)) -> JSON:
    requester = parse_id(account_id)
    await relationships.answer_follow_request(ctx, auth.user, requester, accept=True)
    return await _relationship(ctx, auth.user, requester)


@router.post("/api/v1/follow_requests/{account_id}/reject", **doc(Relationship))
async def reject_follow_request(account_id: str, auth: Auth = Depends(require("write:follows")),
                                ctx: Context = Depends(get_ctx)) -> JSON:
    requester = parse_id(account_id)
    await relationships.answer_follow_request(ctx, auth.user, requester, accept=False)
    return await _relationship(ctx, auth.user, requester)
