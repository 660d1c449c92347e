"""Bad requests get Mastodon's error JSON with the right status, and change nothing."""

from __future__ import annotations

import os

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stoa.config import Settings
from tests.helpers import AppClient, drain, register_app, sign_up


async def count_posts(client: AppClient, account_id: str) -> int:
    return int((await client.get(f"/api/v1/accounts/{account_id}")).json()["statuses_count"])


async def test_unauthorised_and_forbidden(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    no_token = await client.post("/api/v1/statuses", data={"status": "hi"})
    assert no_token.status_code == 401 and "error" in no_token.json()
    bad_token = await client.post("/api/v1/statuses", data={"status": "hi"},
                                  headers={"Authorization": "Bearer nope"})
    assert bad_token.status_code == 401
    app = await register_app(client, scopes="read")
    read_only = await client.post("/oauth/token", data={
        "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
        "username": "alice", "password": "correct horse battery", "scope": "read"})
    assert read_only.status_code == 200, read_only.text
    headers = {"Authorization": f"Bearer {read_only.json()['access_token']}"}
    assert (await client.get("/api/v1/timelines/home", headers=headers)).status_code == 200
    refused = await client.post("/api/v1/statuses", headers=headers, data={"status": "hi"})
    assert refused.status_code == 403
    assert await count_posts(client, alice.id) == 0


async def test_validation_errors_change_nothing(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    cases = [
        ({"status": ""}, 422),
        ({"status": "x" * 501}, 422),
        ({"status": "hi", "visibility": "everyone"}, 422),
        ({"status": "hi", "language": "klingon"}, 422),
        ({"status": "hi", "in_reply_to_id": "999999"}, 422),
        ({"status": "hi", "media_ids[]": "1"}, 422),
        ({"status": "hi", "sensitive": "maybe"}, 422),
    ]
    for data, expected in cases:
        response = await client.post("/api/v1/statuses", headers=alice.headers, data=data)
        assert response.status_code == expected, (data, response.text)
        assert response.json()["error"]
    malformed = await client.post("/api/v1/statuses", headers={**alice.headers, "Content-Type": "application/json"},
                                  content=b'{"status": ')
    assert malformed.status_code == 400
    not_object = await client.post("/api/v1/statuses", headers=alice.headers, json=["status"])
    assert not_object.status_code == 400
    assert await count_posts(client, alice.id) == 0


async def test_posting_defaults_are_checked_like_any_parameter(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    for source, message in [({"privacy": ["public"]}, "privacy must be a string"),
                            ({"language": "zzzzzzzzzz"}, "not a supported ISO 639-1 code"),
                            ({"language": 5}, "not a supported ISO 639-1 code"),
                            ({"sensitive": "maybe"}, "sensitive must be true or false")]:
        response = await client.patch("/api/v1/accounts/update_credentials", headers=alice.headers,
                                      json={"source": source})
        assert response.status_code == 422 and message in response.json()["error"], (source, response.text)
    saved = await client.patch("/api/v1/accounts/update_credentials", headers=alice.headers,
                               data={"source[language]": "it", "source[sensitive]": "1"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["source"]["language"] == "it" and saved.json()["source"]["sensitive"] is True


async def test_not_found_shapes(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    for path in ("/api/v1/statuses/123", "/api/v1/statuses/abc", "/api/v1/accounts/99999999",
                 "/api/v1/accounts/-1", "/api/v1/nothing-here", "/api/v1/statuses/99999999999999999999999"):
        response = await client.get(path, headers=alice.headers)
        assert response.status_code == 404, path
        assert response.json() == {"error": "Record not found"}
    assert (await client.post("/api/v1/accounts/123/follow", headers=alice.headers)).status_code == 404
    assert (await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=alice.headers)).status_code == 422


async def test_sign_up_rules(client: AppClient) -> None:
    await sign_up(client, "alice")
    app = await register_app(client)
    token = (await client.post("/oauth/token", data={
        "grant_type": "client_credentials", "client_id": app["client_id"],
        "client_secret": app["client_secret"], "scope": "write"})).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    base = {"username": "bob", "email": "bob@example.org", "password": "long enough pw", "agreement": "true"}
    for change, message in [({"username": "alice"}, "taken"), ({"email": "ALICE@example.org"}, "taken"),
                            ({"password": "short"}, "Password"), ({"username": "no spaces"}, "Username"),
                            ({"agreement": "false"}, "Agreement"), ({"email": "not-an-email"}, "Email"),
                            ({"region": "mars"}, "region")]:
        response = await client.post("/api/v1/accounts", headers=headers, data={**base, **change})
        assert response.status_code == 422, (change, response.text)
        assert message in response.json()["error"]
    missing = await client.post("/api/v1/accounts", headers=headers, data={"username": "bob"})
    assert missing.status_code == 400
    ok = await client.post("/api/v1/accounts", headers=headers, data=base)
    assert ok.status_code == 200


async def test_wrong_password_and_bad_grants(client: AppClient) -> None:
    await sign_up(client, "alice")
    app = await register_app(client)
    creds = {"client_id": app["client_id"], "client_secret": app["client_secret"]}
    wrong = await client.post("/oauth/token", data={**creds, "grant_type": "password", "username": "alice",
                                                    "password": "wrong password"})
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    bad_client = await client.post("/oauth/token", data={"grant_type": "password", "client_id": "x",
                                                         "client_secret": "y", "username": "a", "password": "b"})
    assert bad_client.status_code == 401
    unknown = await client.post("/oauth/token", data={**creds, "grant_type": "magic"})
    assert unknown.status_code == 400 and unknown.json()["error"] == "unsupported_grant_type"
    bad_code = await client.post("/oauth/token", data={**creds, "grant_type": "authorization_code", "code": "zz",
                                                       "redirect_uri": "urn:ietf:wg:oauth:2.0:oob"})
    assert bad_code.status_code == 400


async def test_body_too_large(client: AppClient, settings: Settings) -> None:
    alice = await sign_up(client, "alice")
    huge = b"status=" + b"a" * (settings.max_request_bytes + 10)
    response = await client.post("/api/v1/statuses", headers={**alice.headers,
                                                              "Content-Type": "application/x-www-form-urlencoded"},
                                 content=huge)
    assert response.status_code == 413
    assert await count_posts(client, alice.id) == 0


async def test_oversize_and_broken_avatar(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    broken = await client.patch("/api/v1/accounts/update_credentials", headers=alice.headers,
                                files={"avatar": ("a.png", b"\x89PNG\r\n\x1a\nnot really", "image/png")},
                                data={"display_name": "Changed"})
    assert broken.status_code == 422
    me = (await client.get("/api/v1/accounts/verify_credentials", headers=alice.headers)).json()
    assert me["display_name"] == "" and me["avatar"].endswith("/static/avatar.png")  # nothing half-written


@pytest.mark.parametrize("counter", ["memory", "redis"])
async def test_rate_limit_per_token(settings: Settings, counter: str) -> None:
    """Counted in memory (embedded) or in Redis (shared by several server processes)."""
    from stoa.app import create_app

    redis_url = os.environ.get("STOA_TEST_REDIS_URL", "redis://127.0.0.1:6379/0") if counter == "redis" else ""
    app = create_app(settings.model_copy(update={"rate_limit_per_token": 5, "redis_url": redis_url}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            alice = await sign_up(client, "alice")  # uses the token once
            statuses = []
            for _ in range(6):
                r = await client.get("/api/v1/timelines/home", headers=alice.headers)
                statuses.append(r.status_code)
                assert "X-RateLimit-Remaining" in r.headers
            assert statuses[:4] == [200] * 4 and statuses[-1] == 429
            assert r.json() == {"error": "Too many requests"} and "Retry-After" in r.headers
            limited = await client.post("/api/v1/statuses", headers=alice.headers, data={"status": "no"})
            assert limited.status_code == 429
    finally:
        await app.state.store.dispose()


async def test_rate_limit_per_ip(settings: Settings) -> None:
    from stoa.app import create_app

    app = create_app(settings.model_copy(update={"rate_limit_per_ip": 3}))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            codes = [(await client.get("/api/v1/timelines/public")).status_code for _ in range(4)]
            assert codes == [200, 200, 200, 429]
            tokened = await client.get("/api/v1/timelines/public", headers={"Authorization": "Bearer x"})
            assert tokened.status_code == 429  # a token does not lift the address's limit
    finally:
        await app.state.store.dispose()


@pytest.mark.parametrize("path", ["/api/v1/statuses", "/api/v1/accounts/update_credentials"])
async def test_fuzzed_parameters_never_500(client: AppClient, path: str) -> None:
    alice = await sign_up(client, "alice")
    method = "PATCH" if "update" in path else "POST"
    keys = st.sampled_from(["status", "visibility", "in_reply_to_id", "sensitive", "spoiler_text", "language",
                            "media_ids[]", "display_name", "note", "locked", "fields_attributes[0][name]",
                            "source[privacy]", "poll[options][]", "scheduled_at"])
    values = st.one_of(st.text(max_size=40), st.integers().map(str), st.sampled_from(["", "true", "-1", "\x00"]))

    examples: list[dict[str, str]] = []

    # Hypothesis draws the inputs; the async client then sends each one.
    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(keys, values, max_size=6))
    def collect(data: dict[str, str]) -> None:
        examples.append(data)

    collect()
    for data in examples:
        response = await client.request(method, path, headers=alice.headers, data=data)
        assert response.status_code < 500, (data, response.text)
        assert response.headers["content-type"].startswith("application/json")
    await drain(client)


@pytest.mark.parametrize("path", ["/api/v1/timelines/home", "/api/v1/timelines/public", "/api/v1/notifications",
                                  "/api/v2/search", "/api/v1/accounts/relationships", "/api/v1/timelines/tag/x",
                                  "/api/v1/statuses"])
async def test_fuzzed_query_strings_never_500(client: AppClient, path: str) -> None:
    alice = await sign_up(client, "alice")
    keys = st.sampled_from(["max_id", "since_id", "min_id", "limit", "local", "types[]", "exclude_types[]", "q",
                            "type", "offset", "id[]", "account_id", "any[]", "resolve"])
    values = st.one_of(st.text(max_size=30), st.integers(min_value=-(2**70), max_value=2**70).map(str),
                       st.sampled_from(["", "true", "0", "99999999999999999999", "%00", "'", '"']))
    examples: list[dict[str, str]] = []

    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.dictionaries(keys, values, max_size=5))
    def collect(params: dict[str, str]) -> None:
        examples.append(params)

    collect()
    for params in examples:
        response = await client.get(path, headers=alice.headers, params=params)
        assert response.status_code < 500, (path, params, response.text)


async def test_two_server_processes_share_one_redis_count(settings: Settings) -> None:
    from stoa.app import create_app

    shared = settings.model_copy(update={"rate_limit_per_token": 4,
                                         "redis_url": os.environ.get("STOA_TEST_REDIS_URL",
                                                                     "redis://127.0.0.1:6379/0")})
    first, second = create_app(shared), create_app(shared)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first), base_url="http://t") as a, \
                httpx.AsyncClient(transport=httpx.ASGITransport(app=second), base_url="http://t") as b:
            alice = await sign_up(a, "alice")  # one request on the token
            codes = [(await (a if i % 2 else b).get("/api/v1/timelines/home", headers=alice.headers)).status_code
                     for i in range(4)]
            assert codes == [200, 200, 200, 429]  # 4 in all, not 4 per process
    finally:
        await first.state.store.dispose()
        await second.state.store.dispose()


async def test_deeply_nested_json_is_a_clear_400(client: AppClient) -> None:
    alice = await sign_up(client, "alice")
    json_headers = {**alice.headers, "Content-Type": "application/json"}
    for depth in (1_000, 5_000):  # under and over the JSON parser's own limit: 400 either way, never 500
        body = b'{"status": "hi", "poll": ' + b"[" * depth + b"]" * depth + b"}"
        response = await client.post("/api/v1/statuses", headers=json_headers, content=body)
        assert response.status_code == 400, (depth, response.text[:200])
        assert "nested" in response.json()["error"], response.text
    ordinary = await client.post("/api/v1/statuses", headers=json_headers,
                                 content=b'{"status": "shallow is fine", "media_ids": []}')
    assert ordinary.status_code == 200, ordinary.text
    assert await count_posts(client, alice.id) == 1


async def test_invalid_utf8_is_refused_not_stored(client: AppClient) -> None:
    """Bytes that are not UTF-8 are a 400, in JSON, forms, multipart text and query strings."""
    alice = await sign_up(client, "alice")
    form = {**alice.headers, "Content-Type": "application/x-www-form-urlencoded"}
    bad_requests = [
        ({**alice.headers, "Content-Type": "application/json"}, b'{"status": "caf\xe9"}'),
        (form, b"status=caf%E9"),  # percent-encoded Latin-1
        (form, b"status=caf\xc3("),  # raw broken UTF-8
        (form, b"st%FFtus=hello"),  # in a name
    ]
    for headers, body in bad_requests:
        response = await client.post("/api/v1/statuses", headers=headers, content=body)
        assert response.status_code == 400, (body, response.text)
        assert "UTF-8" in response.json()["error"], response.text
    boundary = "stoa-boundary"
    multipart = {**alice.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}

    def part(name: bytes, value: bytes) -> bytes:
        return (f"--{boundary}\r\n".encode() + b'Content-Disposition: form-data; name="' + name + b'"\r\n\r\n'
                + value + f"\r\n--{boundary}--\r\n".encode())

    for name, value in [(b"status", b"caf\xe9"), (b"st\xfftus", b"hello")]:
        response = await client.post("/api/v1/statuses", headers=multipart, content=part(name, value))
        assert response.status_code == 400, (name, value, response.text)
        assert "UTF-8" in response.json()["error"], response.text
    search = await client.get("/api/v2/search?q=caf%E9", headers=alice.headers)
    assert search.status_code == 400 and "UTF-8" in search.json()["error"], search.text
    assert await count_posts(client, alice.id) == 0

    good_form = await client.post("/api/v1/statuses", headers=form, content=b"status=caf%C3%A9+au+lait")
    good_multipart = await client.post("/api/v1/statuses", headers=multipart,
                                       content=part(b"status", "caffè".encode()))
    assert good_form.status_code == 200 and good_form.json()["content"] == "<p>café au lait</p>", good_form.text
    assert good_multipart.status_code == 200 and "caffè" in good_multipart.json()["content"], good_multipart.text
    assert (await client.get("/api/v2/search?q=caf%C3%A9", headers=alice.headers)).status_code == 200
