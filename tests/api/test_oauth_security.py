"""OAuth as advertised: codes redeemed once (even under concurrency), PKCE S256 only, safe redirect URIs,
pages that cannot be framed, admin scopes for admins only, and scopes that mean what they say."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from stoa.store.schema import users
from tests.helpers import AppClient, User, sign_up

REDIRECT = "http://127.0.0.1:9/callback"
PASSWORD = "correct horse battery"


async def new_app(client: httpx.AsyncClient, scopes: str = "read write follow push",
                  redirect_uris: str = REDIRECT) -> dict[str, str]:
    response = await client.post("/api/v1/apps", data={"client_name": "security", "scopes": scopes,
                                                       "redirect_uris": redirect_uris})
    assert response.status_code == 200, response.text
    return dict(response.json())


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


async def authorize(client: httpx.AsyncClient, app: dict[str, str], username: str, scope: str = "read",
                    **extra: str) -> httpx.Response:
    return await client.post("/oauth/authorize", data={
        "client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code", "scope": scope,
        "username": username, "password": PASSWORD, **extra})


async def code_for(client: httpx.AsyncClient, app: dict[str, str], username: str, scope: str = "read") -> str:
    granted = await authorize(client, app, username, scope)
    assert granted.status_code == 302, granted.text
    return parse_qs(urlparse(granted.headers["location"]).query)["code"][0]


async def redeem(client: httpx.AsyncClient, app: dict[str, str], code: str) -> httpx.Response:
    return await client.post("/oauth/token", data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": app["client_id"], "client_secret": app["client_secret"]})


class InFlight:
    """Wraps the app to record how many requests were being served at once (proof that they overlapped)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.now = 0
        self.most = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.now += 1
        self.most = max(self.most, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


# Codes: one token per code, whatever the concurrency; a replay revokes what the code gave.

async def test_concurrent_redemptions_of_one_code_yield_one_token(client: AppClient) -> None:
    await sign_up(client, "alice")
    app = await new_app(client)
    counter = InFlight(client.app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=counter), base_url=str(client.base_url)) as c:
        for _ in range(4):  # several rounds: a race that wins some of the time is still a race
            code = await code_for(c, app, "alice")
            counter.most = 0
            answers = await asyncio.gather(*(redeem(c, app, code) for _ in range(10)))
            assert counter.most == 10  # the ten were all in flight together
            statuses = sorted(a.status_code for a in answers)
            assert statuses == [200] + [400] * 9, [a.text for a in answers]
            assert all(a.json()["error"] == "invalid_grant" for a in answers if a.status_code == 400)


async def test_a_replayed_code_is_refused_and_revokes_its_token(client: AppClient) -> None:
    await sign_up(client, "alice")
    app = await new_app(client)
    code = await code_for(client, app, "alice")
    first = await redeem(client, app, code)
    assert first.status_code == 200, first.text
    headers = {"Authorization": f"Bearer {first.json()['access_token']}"}
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=headers)).status_code == 200

    replay = await redeem(client, app, code)
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert (await client.get("/api/v1/accounts/verify_credentials", headers=headers)).status_code == 401
    # Other codes of the same person and their tokens are untouched.
    other = await redeem(client, app, await code_for(client, app, "alice"))
    assert other.status_code == 200
    assert (await client.get("/api/v1/accounts/verify_credentials", headers={
        "Authorization": f"Bearer {other.json()['access_token']}"})).status_code == 200


# PKCE: S256 only, as the metadata says.

async def test_pkce_is_s256_only(client: AppClient) -> None:
    await sign_up(client, "alice")
    app = await new_app(client)
    metadata = (await client.get("/.well-known/oauth-authorization-server")).json()
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    verifier, challenge = pkce()
    base = {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code", "scope": "read"}
    for method in ({"code_challenge_method": "plain"}, {}):  # absent means plain (RFC 7636 §4.3)
        shown = await client.get("/oauth/authorize", params={**base, "code_challenge": verifier, **method})
        assert shown.status_code == 400, shown.text
        submitted = await authorize(client, app, "alice", code_challenge=verifier, **method)
        assert submitted.status_code == 400, submitted.text
    granted = await authorize(client, app, "alice", code_challenge=challenge, code_challenge_method="S256")
    code = parse_qs(urlparse(granted.headers["location"]).query)["code"][0]
    token = await client.post("/oauth/token", data={  # a public client: the verifier instead of a secret
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "client_id": app["client_id"], "code_verifier": verifier})
    assert token.status_code == 200, token.text


# Redirect URIs: nothing a browser would run or read locally.

@pytest.mark.parametrize("uri", [
    "javascript:alert(document.cookie)", "JavaScript://%0aalert(1)", "data:text/html,<script>alert(1)</script>",
    "file:///etc/passwd", "vbscript:msgbox(1)", "http://evil.example/cb", "https://app.example/cb#fragment",
    "not a uri", "//app.example/cb"])
async def test_dangerous_redirect_uris_are_refused(client: AppClient, uri: str) -> None:
    response = await client.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": uri})
    assert response.status_code == 422, response.text


async def test_the_redirect_uris_clients_use_are_accepted(client: AppClient) -> None:
    for uri in ("urn:ietf:wg:oauth:2.0:oob", "https://elk.zone/api/stoa.example/oauth", "http://127.0.0.1:4000/cb",
                "http://localhost:3000/callback", "http://[::1]:8080/cb", "tusky://oauth", "com.example.app:/cb",
                "org.joinmastodon.android.oauth://callback", "https://app.example/a https://app.example/b"):
        response = await client.post("/api/v1/apps", data={"client_name": "x", "redirect_uris": uri})
        assert response.status_code == 200, (uri, response.text)


# HTML pages: never inside someone else's frame.

def assert_unframeable(response: httpx.Response) -> None:
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_every_html_page_refuses_framing(client: AppClient) -> None:
    await sign_up(client, "alice")
    app = await new_app(client, redirect_uris=f"{REDIRECT} urn:ietf:wg:oauth:2.0:oob")
    form = {"client_id": app["client_id"], "redirect_uri": REDIRECT, "response_type": "code", "scope": "read"}
    assert_unframeable(await client.get("/"))
    assert_unframeable(await client.get("/oauth/authorize", params=form))
    assert_unframeable(await client.get("/oauth/authorize", params={**form, "client_id": "unknown"}))
    assert_unframeable(await client.post("/oauth/authorize", data={**form, "client_id": "unknown"}))
    wrong = await client.post("/oauth/authorize", data={**form, "username": "alice", "password": "nope"})
    assert wrong.status_code == 401
    assert_unframeable(wrong)
    oob = await client.post("/oauth/authorize", data={**form, "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
                                                      "username": "alice", "password": PASSWORD})
    assert oob.status_code == 200 and re.search(r'<pre id="code">', oob.text)
    assert_unframeable(oob)


def test_html_is_only_rendered_through_the_page_helper() -> None:
    """Every page the server renders gets the anti-framing headers because there is one way to render one."""
    src = Path(__file__).resolve().parents[2] / "src" / "stoa"
    helper = src / "api" / "pages.py"
    offenders = [str(p.relative_to(src)) for p in src.rglob("*.py")
                 if p != helper and re.search(r"\bHTMLResponse\b", p.read_text())]
    assert offenders == []


# Admin scopes: for admins only.

async def make_admin(client: AppClient, user: User) -> None:
    store = client.store
    async with store.db.write() as conn:
        await conn.execute(users.update().where(users.c.account_id == int(user.id)).values(role="admin"))


async def test_only_admins_get_admin_scopes(client: AppClient) -> None:
    await sign_up(client, "alice")
    boss = await sign_up(client, "boss")
    await make_admin(client, boss)
    app = await new_app(client, scopes="read write admin:read admin:write")

    async def password_grant(username: str, scope: str) -> httpx.Response:
        return await client.post("/oauth/token", data={
            "grant_type": "password", "username": username, "password": PASSWORD, "scope": scope,
            "client_id": app["client_id"], "client_secret": app["client_secret"]})

    refused = await password_grant("alice", "read admin:read")
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope", refused.text
    refused = await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "scope": "admin:write",
        "client_id": app["client_id"], "client_secret": app["client_secret"]})
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_scope", refused.text
    shown = await authorize(client, app, "alice", "read admin:write")
    assert shown.status_code == 400 and "admin" in shown.text  # no code is issued at all
    assert "location" not in shown.headers

    ok = await password_grant("alice", "read write")
    assert ok.status_code == 200
    admin = await password_grant("boss", "read admin:read")
    assert admin.status_code == 200 and admin.json()["scope"] == "read admin:read"
    code = await code_for(client, app, "boss", "admin:write")
    assert (await redeem(client, app, code)).status_code == 200


# Export: everything about a person, so it needs write access and the password.

async def test_export_needs_write_scope_and_the_password(client: AppClient) -> None:
    await sign_up(client, "alice")
    app = await new_app(client)

    async def token(scope: str) -> dict[str, str]:
        answer = await client.post("/oauth/token", data={
            "grant_type": "password", "username": "alice", "password": PASSWORD, "scope": scope,
            "client_id": app["client_id"], "client_secret": app["client_secret"]})
        assert answer.status_code == 200, answer.text
        return {"Authorization": f"Bearer {answer.json()['access_token']}"}

    reader = await token("read")
    refused = await client.post("/api/v1/stoa/account/export", headers=reader, data={"password": PASSWORD})
    assert refused.status_code == 403
    for scope in ("write:accounts", "write"):
        writer = await token(scope)
        assert (await client.post("/api/v1/stoa/account/export", headers=writer)).status_code == 400  # no password
        wrong = await client.post("/api/v1/stoa/account/export", headers=writer, data={"password": "nope"})
        assert wrong.status_code == 422
        done = await client.post("/api/v1/stoa/account/export", headers=writer, data={"password": PASSWORD})
        assert done.status_code == 200 and done.headers["content-type"] == "application/zip"


# Conversations: private, so they need a token with read:statuses.

async def test_conversations_need_read_statuses(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    app = await new_app(client)
    assert (await client.get("/api/v1/conversations")).status_code == 401
    assert (await client.get("/api/v1/conversations", headers=alice.headers)).status_code == 200
    narrow = await client.post("/oauth/token", data={
        "grant_type": "password", "username": "alice", "password": PASSWORD, "scope": "read:accounts",
        "client_id": app["client_id"], "client_secret": app["client_secret"]})
    headers = {"Authorization": f"Bearer {narrow.json()['access_token']}"}
    assert (await client.get("/api/v1/conversations", headers=headers)).status_code == 403
