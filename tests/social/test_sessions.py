"""Sign-up, the OAuth grants and revocation as actions (no HTTP)."""

from __future__ import annotations

import dataclasses

import pytest

from stoa.core.context import Context
from stoa.core.errors import Forbidden, Unauthorized, ValidationFailed
from stoa.social import accounts, oauth, sessions
from tests.social.conftest import new_person


async def test_sign_up_issues_a_token_with_only_the_scopes_a_sign_up_may_carry(ctx: Context) -> None:
    issued = await sessions.sign_up(ctx, accounts.NewAccount("carol", "carol@example.org", "a long password"),
                                    None, frozenset({"read", "write", "admin:write"}), agreed=True)
    assert issued.scopes == ["read", "write"]
    info = await sessions.resolve_token(ctx, issued.access_token)
    assert info.scopes == frozenset({"read", "write"})
    own = await accounts.credential(ctx, info.account_id or 0)
    assert own.account.username == "carol" and own.follow_requests == 0


async def test_sign_up_refusals(ctx: Context) -> None:
    new = accounts.NewAccount("dave", "dave@example.org", "a long password")
    with pytest.raises(ValidationFailed):
        await sessions.sign_up(ctx, new, None, frozenset({"read"}), agreed=False)
    await sessions.sign_up(ctx, new, None, frozenset({"read"}), agreed=True)
    with pytest.raises(ValidationFailed):  # the name is taken now
        await sessions.sign_up(ctx, dataclasses.replace(new, email="other@example.org"), None, frozenset(), agreed=True)
    closed = dataclasses.replace(ctx, settings=ctx.settings.model_copy(update={"registrations_open": False}))
    with pytest.raises(Forbidden):
        await sessions.sign_up(closed, dataclasses.replace(new, username="erin", email="erin@example.org"), None,
                               frozenset(), agreed=True)


async def test_password_grant_and_revocation(ctx: Context) -> None:
    await new_person(ctx, "alice", password="correct horse battery")
    app = await sessions.register_app(ctx, "cli", oauth.OOB, "read write", None)
    client = await sessions.client_for_grant(ctx, app["client_id"], app["client_secret"], public_allowed=False)
    with pytest.raises(Unauthorized):
        await sessions.grant_password(ctx, client, "alice", "wrong password", "read")
    issued = await sessions.grant_password(ctx, client, "alice", "correct horse battery", "read")
    assert (await sessions.resolve_token(ctx, issued.access_token)).scopes == frozenset({"read"})
    assert (await sessions.app_of_token(ctx, client.id)).name == "cli"

    with pytest.raises(Unauthorized):  # only the app holding the secret may revoke
        await sessions.revoke(ctx, app["client_id"], "not the secret", issued.access_token)
    await sessions.revoke(ctx, app["client_id"], app["client_secret"], issued.access_token)
    with pytest.raises(Unauthorized):
        await sessions.resolve_token(ctx, issued.access_token)


async def test_authorization_code_is_exchanged_once(ctx: Context) -> None:
    await new_person(ctx, "alice", password="correct horse battery")
    app = await sessions.register_app(ctx, "web", "https://client.example/cb", "read", None)
    request = await sessions.check_authorization_request(ctx, app["client_id"], "code", "https://client.example/cb",
                                                         "read", None, None)
    code = await sessions.authorize(ctx, request, "alice", "correct horse battery")
    client = await sessions.client_for_grant(ctx, app["client_id"], app["client_secret"], public_allowed=True)
    first = await sessions.grant_authorization_code(ctx, client, code, "https://client.example/cb", None,
                                                    public_client=False)
    with pytest.raises(oauth.InvalidGrant):
        await sessions.grant_authorization_code(ctx, client, code, "https://client.example/cb", None,
                                                public_client=False)
    with pytest.raises(Unauthorized):  # the replay revoked the first token too
        await sessions.resolve_token(ctx, first.access_token)
    with pytest.raises(oauth.InvalidGrant):  # a public client must have used PKCE
        code = await sessions.authorize(ctx, request, "alice", "correct horse battery")
        await sessions.grant_authorization_code(ctx, client, code, "https://client.example/cb", None,
                                                public_client=True)
