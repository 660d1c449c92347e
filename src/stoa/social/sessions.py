"""Getting and losing access: sign-up, sign-in, the OAuth grants, revocation.

Each function here is one whole action that owns its transactions, so the
Mastodon API, the web app, the CLI or a federation inbox all do it the same
way. The person's credentials, codes and tokens live in their home region:
apps register in the default region, and a region that issues a token for an
app keeps its own copy of the app's row (``oauth.ensure_app``). The pieces
(scopes, PKCE, redirect URIs, the once-only code) are in ``social.oauth``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from stoa.core.context import Context
from stoa.core.errors import BadRequest, Forbidden, Unauthorized, ValidationFailed
from stoa.social import accounts, oauth

SIGN_UP_SCOPES = {"read", "write", "follow", "push"}  # what a sign-up's first token may carry


@dataclass(frozen=True)
class IssuedToken:
    """An access token as the client receives it (the store keeps only its hash)."""

    access_token: str
    scopes: list[str]
    created_at: int

    def as_json(self) -> dict[str, Any]:
        return {"access_token": self.access_token, "token_type": "Bearer", "scope": " ".join(self.scopes),
                "created_at": self.created_at}


def _issued(token: str, scopes: list[str]) -> IssuedToken:
    return IssuedToken(token, scopes, int(time.time()))


def _region(ctx: Context, region: str | None) -> Context:
    """The context of a named region; the default one for a name that is missing or unknown."""
    return ctx.for_region(region if region in ctx.store.region_names else ctx.store.default_region)


async def _home_of_login(ctx: Context, login: str) -> Context:
    return _region(ctx, await accounts.home_region_of_login(ctx.store, login))


async def sign_up(ctx: Context, new: accounts.NewAccount, app_id: int | None, app_scopes: frozenset[str],
                  *, agreed: bool) -> IssuedToken:
    """A new account in its home region, signed in at once with a token for the app that signed it up."""
    if not ctx.settings.registrations_open:
        raise Forbidden("Registrations are closed on this server")
    if not agreed:
        raise ValidationFailed("Agreement must be accepted")
    home = ctx.for_region(new.region or ctx.store.default_region)  # unknown region -> 422
    accounts.validate_new_account(new)
    await accounts.check_name_free_everywhere(ctx.store, new)
    password_hash = await accounts.hash_password(new.password)
    async with ctx.db.read() as conn:
        app = await oauth.get_app(conn, app_id)
    scopes = sorted(app_scopes & SIGN_UP_SCOPES) or ["read"]
    async with home.db.write() as conn:  # the account, its credentials and its token: all in its home region
        account_id = await accounts.create_account(conn, new, default_region=home.home, password_hash=password_hash)
        if app is not None:
            await oauth.ensure_app(conn, app)
        token = await oauth.issue_token(conn, app_id, account_id, scopes, home.home)
    home.db.wake()
    return _issued(token, scopes)


async def register_app(ctx: Context, name: str, redirect_uris: str, scopes: str | None,
                       website: str | None) -> dict[str, Any]:
    """A client app (in the default region, where every token grant looks it up)."""
    ctx = ctx.for_region(ctx.store.default_region)
    async with ctx.db.write() as conn:
        return await oauth.create_app(conn, name, redirect_uris, scopes, website)


async def app_of_token(ctx: Context, app_id: int | None) -> Any:
    """The app a token was issued to (``verify_credentials`` for apps)."""
    async with ctx.db.read() as conn:
        app = await oauth.get_app(conn, app_id)
    if app is None:
        raise Unauthorized("The access token is invalid")
    return app


async def resolve_token(ctx: Context, token: str) -> oauth.TokenInfo:
    """Who a bearer token speaks for; read in the region the token names."""
    async with _region(ctx, oauth.region_of(token)).db.read() as conn:
        return await oauth.resolve_token(conn, token)


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked ``/oauth/authorize`` request: the app, where the code goes, and the scopes it may get."""

    app: Any
    redirect_uri: str
    scopes: list[str]
    code_challenge: str | None
    code_challenge_method: str | None


async def check_authorization_request(
    ctx: Context, client_id: str | None, response_type: str | None, redirect_uri: str | None,
    scope: str | None, code_challenge: str | None, code_challenge_method: str | None,
) -> AuthorizationRequest:
    """Refuse a request naming no app, or a redirect URI, scope or PKCE challenge its app may not use."""
    if (response_type or "code") != "code":
        raise BadRequest("The authorization server does not support this response type.")
    async with ctx.for_region(ctx.store.default_region).db.read() as conn:
        app = await oauth.find_app(conn, client_id)
    uri = redirect_uri or oauth.OOB
    oauth.check_redirect_uri(app, uri)
    scopes = oauth.narrow_scopes(app, scope)
    oauth.check_code_challenge(code_challenge, code_challenge_method)
    return AuthorizationRequest(app, uri, scopes, code_challenge, code_challenge_method)


async def authorize(ctx: Context, request: AuthorizationRequest, login: str, password: str) -> str:
    """Sign a person in on the authorize page and issue the app a one-time code (Unauthorized: wrong login)."""
    home = await _home_of_login(ctx, login)
    async with home.db.read() as conn:
        account_id = await accounts.authenticate(conn, login, password)
    async with home.db.write() as conn:  # the code lives where the person's tokens will
        await oauth.ensure_app(conn, request.app)
        return await oauth.issue_code(conn, request.app, account_id, request.redirect_uri, request.scopes,
                                      request.code_challenge, request.code_challenge_method, home.home)


async def client_for_grant(ctx: Context, client_id: str | None, client_secret: str | None, *,
                           public_allowed: bool) -> Any:
    """The app asking for a token: authenticated by its secret, or, for a public client using PKCE, by id."""
    async with ctx.for_region(ctx.store.default_region).db.read() as conn:
        if public_allowed and not client_secret:
            return await oauth.find_app(conn, client_id)
        return await oauth.authenticate_client(conn, client_id, client_secret)


async def grant_authorization_code(ctx: Context, app: Any, code: str | None, redirect_uri: str | None,
                                   code_verifier: str | None, *, public_client: bool) -> IssuedToken:
    """Exchange a code once (a public client must have used PKCE); a replay raises InvalidGrant."""
    home = _region(ctx, oauth.region_of(code or ""))
    exchanged = await oauth.exchange_code(home.db, app, code, redirect_uri, code_verifier, region=home.home,
                                          require_pkce=public_client)
    return _issued(exchanged.access_token, exchanged.scopes)


async def grant_password(ctx: Context, app: Any, login: str, password: str, scope: str | None) -> IssuedToken:
    """The resource-owner password grant (command-line clients and tests)."""
    scopes = oauth.narrow_scopes(app, scope)
    home = await _home_of_login(ctx, login)
    async with home.db.read() as conn:
        account_id = await accounts.authenticate(conn, login, password)
    async with home.db.write() as conn:
        await oauth.ensure_app(conn, app)
        return _issued(await oauth.issue_token(conn, app.id, account_id, scopes, home.home), scopes)


async def grant_client_credentials(ctx: Context, app: Any, scope: str | None) -> IssuedToken:
    """A token for the app itself, speaking for no one (it may register accounts)."""
    scopes = oauth.narrow_scopes(app, scope)
    default = ctx.for_region(ctx.store.default_region)
    async with default.db.write() as conn:
        return _issued(await oauth.issue_token(conn, app.id, None, scopes, default.home), scopes)


async def revoke(ctx: Context, client_id: str | None, client_secret: str | None, token: str) -> None:
    """RFC 7009 revocation by the app the token was issued to."""
    home = _region(ctx, oauth.region_of(token))
    async with home.db.write() as conn:
        app = await oauth.authenticate_client(conn, client_id, client_secret)
        await oauth.revoke_token(conn, app, token)
