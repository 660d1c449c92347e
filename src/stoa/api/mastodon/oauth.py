"""Apps and OAuth 2: registration, the authorize page, tokens (code + PKCE, password, client credentials)."""

from __future__ import annotations

import html
from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.responses import RedirectResponse, Response

from stoa.api.deps import Auth, get_ctx, get_params, require
from stoa.api.mastodon.entities import Application, AuthorizationServer, CredentialApplication, Empty, Token
from stoa.api.openapi import doc
from stoa.api.params import Params
from stoa.api.responses import JSON, error
from stoa.social import accounts, oauth
from stoa.social.context import Context
from stoa.social.errors import BadRequest, DomainError, Unauthorized
from stoa.web.pages import HTMLPage

router = APIRouter()


class AppForm(BaseModel):
    client_name: str = Field(max_length=255)
    redirect_uris: str | list[str] | None = Field(None, description="Space- or newline-separated, or a list; "
                                                  "https, loopback http, private-use schemes or the oob URN")
    scopes: str | None = Field(None, max_length=1024, description="Space-separated (default: read)")
    website: str | None = Field(None, max_length=1024)


class AuthorizeQuery(BaseModel):
    client_id: str
    response_type: Literal["code"] | None = None
    redirect_uri: str | None = None
    scope: str | None = None
    state: str | None = None
    code_challenge: str | None = Field(None, max_length=128, description="PKCE")
    code_challenge_method: Literal["S256"] | None = None


class SignInForm(AuthorizeQuery):
    username: str = Field(max_length=255, description="Username or e-mail")
    password: str = Field(max_length=1024)


class TokenForm(BaseModel):
    grant_type: Literal["authorization_code", "password", "client_credentials"]
    client_id: str | None = Field(None, max_length=255, description="Or HTTP Basic authentication")
    client_secret: str | None = Field(None, max_length=255, description="Not with PKCE (a public client)")
    code: str | None = Field(None, max_length=255)
    redirect_uri: str | None = Field(None, max_length=4096)
    code_verifier: str | None = Field(None, max_length=255)
    scope: str | None = None
    username: str | None = Field(None, max_length=255)
    password: str | None = Field(None, max_length=1024)


class RevokeForm(BaseModel):
    token: str = Field(max_length=255)
    client_id: str | None = Field(None, max_length=255)
    client_secret: str | None = Field(None, max_length=255)


AUTHORIZE_FAILED = "The request names no app, or a redirect URI, scope or PKCE challenge it may not use"


def _app_json(row: dict[str, object] | object, with_secret: bool = True) -> dict[str, object]:
    get = row.get if isinstance(row, dict) else lambda k: getattr(row, k)
    uris = str(get("redirect_uris")).split("\n")
    data: dict[str, object] = {
        "id": str(get("id")),
        "name": get("name"),
        "website": get("website"),
        "scopes": str(get("scopes")).split(),
        "redirect_uri": "\n".join(uris),
        "redirect_uris": uris,
        "vapid_key": "",
    }
    if with_secret:
        data["client_id"] = get("client_id")
        data["client_secret"] = get("client_secret")
        data["client_secret_expires_at"] = 0
    return data


@router.post("/api/v1/apps", **doc(CredentialApplication, body=AppForm))
async def create_app(ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> JSON:
    if isinstance(params.raw("redirect_uris"), list):
        redirect_uris = " ".join(params.items("redirect_uris"))
    else:
        redirect_uris = params.text("redirect_uris", None, 4096) or oauth.OOB
    async with ctx.db.write() as conn:
        row = await oauth.create_app(conn, params.required_str("client_name", 255), redirect_uris,
                                     params.text("scopes", "read", 1024), params.text("website", None, 1024))
    return JSON(_app_json(row))


@router.get("/api/v1/apps/verify_credentials", **doc(Application))
async def verify_app(auth: Auth = Depends(require("read", user=False)),
                     ctx: Context = Depends(get_ctx)) -> JSON:
    from sqlalchemy import select

    from stoa.store.schema import apps

    async with ctx.db.read() as conn:
        row = (await conn.execute(select(apps).where(apps.c.id == auth.app_id))).first()
    if row is None:
        raise Unauthorized("The access token is invalid")
    return JSON(_app_json(row, with_secret=False))


@router.get("/.well-known/oauth-authorization-server", **doc(AuthorizationServer))
async def authorization_server(ctx: Context = Depends(get_ctx)) -> JSON:
    base = ctx.base_url
    return JSON({
        "issuer": base + "/",
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": f"{base}/oauth/authorize",
        "token_endpoint": f"{base}/oauth/token",
        "revocation_endpoint": f"{base}/oauth/revoke",
        "app_registration_endpoint": f"{base}/api/v1/apps",
        "scopes_supported": sorted(oauth.all_scopes()),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
    })


AUTHORIZE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Authorize {app} – Stoa</title>
<style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}}
label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.5rem;box-sizing:border-box}}
button{{margin-top:1rem;padding:.6rem 1.2rem}}.error{{color:#b00020}}</style></head>
<body><h1>Authorize {app}</h1>
<p><strong>{app}</strong> asks to use your Stoa account with these permissions: <code>{scopes}</code>.</p>
{message}
<form method="post" action="/oauth/authorize">
{hidden}
<label for="username">Username or e-mail</label><input id="username" name="username" autocomplete="username" required>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Authorize</button>
</form></body></html>"""

AUTH_FIELDS = ("client_id", "redirect_uri", "scope", "state", "code_challenge", "code_challenge_method",
               "response_type")


def _error_page(message: str) -> HTMLPage:
    return HTMLPage(f"<!doctype html><title>Error</title><h1>Cannot authorize</h1><p>{html.escape(message)}</p>",
                    status_code=400)


def _authorize_page(app_name: str, params: Params, message: str = "", status: int = 200) -> HTMLPage:
    hidden = "\n".join(
        f'<input type="hidden" name="{name}" value="{html.escape(params.text(name) or "")}">'
        for name in AUTH_FIELDS if params.text(name) is not None
    )
    body = AUTHORIZE_PAGE.format(
        app=html.escape(app_name), scopes=html.escape(params.text("scope") or "read"),
        hidden=hidden, message=f'<p class="error" role="alert">{html.escape(message)}</p>' if message else "")
    return HTMLPage(body, status_code=status)


async def _checked_request(ctx: Context, params: Params) -> tuple[object, str, list[str]]:
    if (params.text("response_type") or "code") != "code":
        raise BadRequest("The authorization server does not support this response type.")
    async with ctx.db.read() as conn:
        app = await oauth.find_app(conn, params.text("client_id"))
    redirect_uri = params.text("redirect_uri") or oauth.OOB
    oauth.check_redirect_uri(app, redirect_uri)
    scopes = oauth.narrow_scopes(app, params.text("scope"))
    oauth.check_code_challenge(params.text("code_challenge", None, 128),
                               params.text("code_challenge_method", None, 16))
    return app, redirect_uri, scopes


@router.get("/oauth/authorize", **doc(query=AuthorizeQuery, pages={200: "The sign-in form", 400: AUTHORIZE_FAILED}))
async def authorize_form(ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> Response:
    try:
        app, _, _ = await _checked_request(ctx, params)
    except DomainError as exc:
        return _error_page(str(exc))
    return _authorize_page(getattr(app, "name", "an app"), params)


@router.post("/oauth/authorize", **doc(
    body=SignInForm, also={302: {"description": "To the redirect URI, with code and state"}},
    pages={200: "The code, for the oob redirect URI", 400: AUTHORIZE_FAILED,
           401: "Wrong username or password: the form again"}))
async def authorize_submit(ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> Response:
    try:
        app, redirect_uri, scopes = await _checked_request(ctx, params)
    except DomainError as exc:
        return _error_page(str(exc))
    login = params.text("username", "", 255) or ""
    home = ctx.for_region(await accounts.home_region_of_login(ctx.store, login) or ctx.store.default_region)
    try:
        async with home.db.read() as conn:
            account_id = await accounts.authenticate(conn, login, params.text("password", "", 1024) or "")
    except Unauthorized as exc:
        return _authorize_page(getattr(app, "name", "an app"), params, str(exc), status=401)
    try:
        async with home.db.write() as conn:  # the code lives where the person's tokens will
            await oauth.ensure_app(conn, app)
            code = await oauth.issue_code(conn, app, account_id, redirect_uri, scopes,
                                          params.text("code_challenge", None, 128),
                                          params.text("code_challenge_method", None, 16), home.home)
    except DomainError as exc:
        return _error_page(str(exc))
    if redirect_uri == oauth.OOB:
        return HTMLPage(f"<!doctype html><title>Authorization code</title><h1>Authorization code</h1>"
                        f"<p>Copy this code into the app:</p><pre id=\"code\">{html.escape(code)}</pre>")
    query = {"code": code}
    if params.text("state"):
        query["state"] = params.text("state") or ""
    separator = "&" if "?" in redirect_uri else "?"
    return RedirectResponse(redirect_uri + separator + urlencode(query), status_code=302)


def _client_credentials(request: Request, params: Params) -> tuple[str | None, str | None]:
    import base64

    header = request.headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            client_id, _, secret = base64.b64decode(header[6:]).decode().partition(":")
            return client_id, secret
        except (ValueError, UnicodeDecodeError):
            return None, None
    return params.text("client_id", None, 255), params.text("client_secret", None, 255)


def _region_ctx(ctx: Context, region: str | None) -> Context:
    """The context of a named region; the default one for a name that is missing or unknown."""
    return ctx.for_region(region if region in ctx.store.region_names else ctx.store.default_region)


@router.post("/oauth/token", **doc(Token, body=TokenForm, errors=(401,)))
async def token(request: Request, ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> Response:
    grant = params.text("grant_type")
    client_id, client_secret = _client_credentials(request, params)
    ctx = ctx.for_region(ctx.store.default_region)  # apps register in the default region
    try:
        async with ctx.db.read() as conn:
            if grant == "authorization_code" and not client_secret:
                app = await oauth.find_app(conn, client_id)  # public client: PKCE stands in for the secret
            else:
                app = await oauth.authenticate_client(conn, client_id, client_secret)
    except Unauthorized as exc:
        return error(401, "invalid_client", str(exc))
    try:
        if grant == "authorization_code":
            code = params.text("code", None, 255)
            home = _region_ctx(ctx, oauth.region_of(code or ""))
            exchanged = await oauth.exchange_code(
                home.db, app, code, params.text("redirect_uri", None, 4096),
                params.text("code_verifier", None, 255), region=home.home, require_pkce=not client_secret)
            access, scopes = exchanged.access_token, exchanged.scopes
        elif grant == "password":
            scopes = oauth.narrow_scopes(app, params.text("scope"))
            login = params.text("username", "", 255) or ""
            home = _region_ctx(ctx, await accounts.home_region_of_login(ctx.store, login))
            async with home.db.read() as conn:
                account_id = await accounts.authenticate(conn, login, params.text("password", "", 1024) or "")
            async with home.db.write() as conn:
                await oauth.ensure_app(conn, app)
                access = await oauth.issue_token(conn, app.id, account_id, scopes, home.home)
        elif grant == "client_credentials":
            scopes = oauth.narrow_scopes(app, params.text("scope"))
            async with ctx.db.write() as conn:
                access = await oauth.issue_token(conn, app.id, None, scopes, ctx.home)
        else:
            return error(400, "unsupported_grant_type",
                         "The authorization grant type is not supported by the authorization server.")
    except oauth.InvalidGrant as exc:
        for account_id in exc.revoked_accounts:  # revoked tokens must stop working here at once
            request.app.state.token_cache.forget_account(account_id)
        return error(400, "invalid_grant", str(exc))
    except oauth.InvalidScope as exc:
        return error(400, "invalid_scope", str(exc))
    except Unauthorized as exc:
        return error(400, "invalid_grant", str(exc))
    except DomainError as exc:
        return error(400, "invalid_grant" if grant == "authorization_code" else "invalid_request", str(exc))
    import time

    return JSON({"access_token": access, "token_type": "Bearer", "scope": " ".join(scopes),
                 "created_at": int(time.time())})


@router.post("/oauth/revoke", **doc(Empty, body=RevokeForm, errors=(401,)))
async def revoke(request: Request, ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> Response:
    client_id, client_secret = _client_credentials(request, params)
    token_text = params.required_str("token", 255)
    home = _region_ctx(ctx, oauth.region_of(token_text))
    try:
        async with home.db.write() as conn:
            app = await oauth.authenticate_client(conn, client_id, client_secret)
            await oauth.revoke_token(conn, app, token_text)
    except Unauthorized as exc:
        return error(401, "invalid_client", str(exc))
    request.app.state.token_cache.forget(params.text("token") or "")
    return JSON({})
