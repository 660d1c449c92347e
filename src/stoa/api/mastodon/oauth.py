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
from stoa.api.pages import HTMLPage
from stoa.api.params import Params
from stoa.api.responses import JSON, error
from stoa.core.context import Context
from stoa.core.errors import DomainError, Unauthorized
from stoa.social import oauth, sessions

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
    row = await sessions.register_app(ctx, params.required_str("client_name", 255), redirect_uris,
                                      params.text("scopes", "read", 1024), params.text("website", None, 1024))
    return JSON(_app_json(row))


@router.get("/api/v1/apps/verify_credentials", **doc(Application))
async def verify_app(auth: Auth = Depends(require("read", user=False)),
                     ctx: Context = Depends(get_ctx)) -> JSON:
    return JSON(_app_json(await sessions.app_of_token(ctx, auth.app_id), with_secret=False))


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


async def _checked_request(ctx: Context, params: Params) -> sessions.AuthorizationRequest:
    return await sessions.check_authorization_request(
        ctx, params.text("client_id"), params.text("response_type"), params.text("redirect_uri"),
        params.text("scope"), params.text("code_challenge", None, 128), params.text("code_challenge_method", None, 16))


@router.get("/oauth/authorize", **doc(query=AuthorizeQuery, pages={200: "The sign-in form", 400: AUTHORIZE_FAILED}))
async def authorize_form(ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> Response:
    try:
        checked = await _checked_request(ctx, params)
    except DomainError as exc:
        return _error_page(str(exc))
    return _authorize_page(checked.app.name, params)


@router.post("/oauth/authorize", **doc(
    body=SignInForm, also={302: {"description": "To the redirect URI, with code and state"}},
    pages={200: "The code, for the oob redirect URI", 400: AUTHORIZE_FAILED,
           401: "Wrong username or password: the form again"}))
async def authorize_submit(ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> Response:
    try:
        checked = await _checked_request(ctx, params)
    except DomainError as exc:
        return _error_page(str(exc))
    try:
        code = await sessions.authorize(ctx, checked, params.text("username", "", 255) or "",
                                        params.text("password", "", 1024) or "")
    except Unauthorized as exc:
        return _authorize_page(checked.app.name, params, str(exc), status=401)
    except DomainError as exc:
        return _error_page(str(exc))
    redirect_uri = checked.redirect_uri
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


@router.post("/oauth/token", **doc(Token, body=TokenForm, errors=(401,)))
async def token(request: Request, ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> Response:
    grant = params.text("grant_type")
    client_id, client_secret = _client_credentials(request, params)
    try:  # a public client (no secret) may use the code grant: PKCE stands in for the secret
        app = await sessions.client_for_grant(ctx, client_id, client_secret,
                                              public_allowed=grant == "authorization_code")
    except Unauthorized as exc:
        return error(401, "invalid_client", str(exc))
    try:
        if grant == "authorization_code":
            issued = await sessions.grant_authorization_code(
                ctx, app, params.text("code", None, 255), params.text("redirect_uri", None, 4096),
                params.text("code_verifier", None, 255), public_client=not client_secret)
        elif grant == "password":
            issued = await sessions.grant_password(ctx, app, params.text("username", "", 255) or "",
                                                   params.text("password", "", 1024) or "", params.text("scope"))
        elif grant == "client_credentials":
            issued = await sessions.grant_client_credentials(ctx, app, params.text("scope"))
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
    return JSON(issued.as_json())


@router.post("/oauth/revoke", **doc(Empty, body=RevokeForm, errors=(401,)))
async def revoke(request: Request, ctx: Context = Depends(get_ctx), params: Params = Depends(get_params)) -> Response:
    client_id, client_secret = _client_credentials(request, params)
    token_text = params.required_str("token", 255)
    try:
        await sessions.revoke(ctx, client_id, client_secret, token_text)
    except Unauthorized as exc:
        return error(401, "invalid_client", str(exc))
    request.app.state.token_cache.forget(token_text)
    return JSON({})
