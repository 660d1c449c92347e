"""Request dependencies: the domain context and who is asking (OAuth bearer tokens, scopes)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from fastapi import Depends, Request

from stoa.api import client
from stoa.api.params import Params
from stoa.core.context import Context
from stoa.core.errors import Forbidden, Unauthorized
from stoa.social import oauth, sessions

TOKEN_CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Auth:
    token_id: int
    account_id: int | None
    app_id: int | None
    scopes: frozenset[str]

    @property
    def user(self) -> int:
        if self.account_id is None:
            raise Unauthorized("This method requires an authenticated user")
        return self.account_id


class TokenCache:
    """A few seconds of memory for token lookups, dropped at once on revocation."""

    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, Auth]] = {}

    def get(self, token: str) -> Auth | None:
        entry = self._entries.get(token)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, token: str, auth: Auth) -> None:
        if len(self._entries) > 50_000:
            self._entries.clear()
        self._entries[token] = (time.monotonic() + TOKEN_CACHE_SECONDS, auth)

    def forget(self, token: str) -> None:
        self._entries.pop(token, None)

    def forget_account(self, account_id: int) -> None:
        for token, (_, auth) in list(self._entries.items()):
            if auth.account_id == account_id:
                del self._entries[token]


async def get_ctx(request: Request) -> Context:
    """The request's context, in its actor's home region (read off the token's region prefix)."""
    ctx: Context = request.app.state.ctx
    token = bearer_token(request)
    if token is not None:
        region = oauth.region_of(token)
        if region is not None and region != ctx.home:
            contexts: dict[str, Context] = request.app.state.contexts
            return contexts.get(region, ctx)
    return ctx



async def get_params(request: Request) -> Params:
    cached: Params | None = getattr(request.state, "params", None)
    if cached is None:
        cached = await Params.read(request)
        request.state.params = cached
    return cached


def bearer_token(request: Request) -> str | None:
    """The request's access token, read exactly as the rate limits read it (``api/client.py``)."""
    return client.token_of(request.scope)


def client_ip(request: Request) -> str:
    """The client's address: the peer, or what a trusted reverse proxy says (``STOA_TRUSTED_PROXIES``)."""
    trusted = client.trusted_networks(request.app.state.settings.trusted_proxies)
    return client.client_address(request.scope, trusted)


async def resolve(request: Request, token: str) -> Auth:
    cache: TokenCache = request.app.state.token_cache
    auth = cache.get(token)
    if auth is None:
        info = await sessions.resolve_token(request.app.state.ctx, token)
        auth = Auth(info.token_id, info.account_id, info.app_id, info.scopes)
        cache.put(token, auth)
    return auth


async def optional_auth(request: Request) -> Auth | None:
    token = bearer_token(request)
    if token is None:
        return None
    return await resolve(request, token)


def require(scope: str, user: bool = True) -> Callable[..., Awaitable[Auth]]:
    """A dependency: a valid token whose scopes cover ``scope`` (and, by default, a user)."""

    async def dependency(auth: Auth | None = Depends(optional_auth)) -> Auth:
        if auth is None:
            raise Unauthorized("The access token is invalid")
        if not oauth.scope_allows(set(auth.scopes), scope):
            raise Forbidden("This action is outside the authorized scopes")
        if user and auth.account_id is None:
            raise Unauthorized("This method requires an authenticated user")
        return auth

    return dependency


def viewer(auth: Auth | None) -> int | None:
    return auth.account_id if auth is not None else None
