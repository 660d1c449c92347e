"""Endpoints nothing else exercised: unpin, account search, an app's own credentials, posts by id."""

from __future__ import annotations

from tests.helpers import AppClient, app_token, drain, register_app, sign_up


async def test_pin_then_unpin_leaves_the_profile(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    post = (await client.post("/api/v1/statuses", headers=alice.headers, data={"status": "pin me"})).json()
    pinned = await client.post(f"/api/v1/statuses/{post['id']}/pin", headers=alice.headers)
    assert pinned.status_code == 200 and pinned.json()["pinned"] is True
    listed = await client.get(f"/api/v1/accounts/{alice.id}/statuses", params={"pinned": "true"})
    assert [s["id"] for s in listed.json()] == [post["id"]]

    unpinned = await client.post(f"/api/v1/statuses/{post['id']}/unpin", headers=alice.headers)
    assert unpinned.status_code == 200 and unpinned.json()["pinned"] is False
    assert (await client.get(f"/api/v1/accounts/{alice.id}/statuses", params={"pinned": "true"})).json() == []


async def test_account_search_finds_by_name_prefix_and_needs_a_token(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    await sign_up(client, "alfred")
    await sign_up(client, "bob")
    await drain(client)
    found = await client.get("/api/v1/accounts/search", headers=alice.headers, params={"q": "al"})
    assert found.status_code == 200
    assert {a["username"] for a in found.json()} == {"alice", "alfred"}
    assert (await client.get("/api/v1/accounts/search", params={"q": "al"})).status_code == 401
    missing_q = await client.get("/api/v1/accounts/search", headers=alice.headers)
    assert missing_q.status_code == 400  # as Mastodon: a missing parameter


async def test_an_app_verifies_its_own_credentials_without_its_secret(client: AppClient) -> None:
    app = await register_app(client)
    token = await app_token(client, app, "read")
    me = await client.get("/api/v1/apps/verify_credentials", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["name"] == "tests" and "client_secret" not in me.json()
    assert (await client.get("/api/v1/apps/verify_credentials")).status_code == 401


async def test_posts_by_id_keep_the_order_asked_and_leave_out_the_unknown(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    first = (await client.post("/api/v1/statuses", headers=alice.headers, data={"status": "one"})).json()
    second = (await client.post("/api/v1/statuses", headers=alice.headers, data={"status": "two"})).json()
    found = await client.get("/api/v1/statuses",
                             params=[("id[]", second["id"]), ("id[]", "12345"), ("id[]", first["id"])])
    assert found.status_code == 200
    assert [s["id"] for s in found.json()] == [second["id"], first["id"]]
