"""Rate limits that hold: one bucket per credential however it is sent, the real client behind a trusted
proxy (and only a trusted one), and still a limit when Redis is down."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from prometheus_client import REGISTRY
from structlog.testing import capture_logs

from stoa.config import Settings
from tests.helpers import sign_up


@asynccontextmanager
async def serving(settings: Settings, peer: str = "127.0.0.1", **overrides: object) -> AsyncIterator[
        httpx.AsyncClient]:
    """The app with its own settings, reached from ``peer`` (the address the server sees connect)."""
    from stoa.app import create_app

    app = create_app(settings.model_copy(update=overrides))
    try:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield client
    finally:
        await app.state.store.dispose()


async def test_a_token_in_the_query_string_counts_in_the_tokens_bucket(settings: Settings) -> None:
    async with serving(settings, rate_limit_per_token=4) as client:
        alice = await sign_up(client, "alice")  # one request on her token
        by_header = await client.get("/api/v1/timelines/home", headers=alice.headers)
        by_query = await client.get("/api/v1/timelines/home", params={"access_token": alice.token})
        assert (by_header.status_code, by_query.status_code) == (200, 200)
        assert by_query.headers["X-RateLimit-Limit"] == "4" and by_query.headers["X-RateLimit-Remaining"] == "1"
        assert (await client.get("/api/v1/timelines/home", params={"access_token": alice.token})).status_code == 200
        assert (await client.get("/api/v1/timelines/home", params={"access_token": alice.token})).status_code == 429
        assert (await client.get("/api/v1/timelines/home", headers=alice.headers)).status_code == 429


async def test_a_token_in_a_form_body_is_no_credential(settings: Settings) -> None:
    """Only the header and the query string carry a token, so a form field cannot be a way around its bucket."""
    async with serving(settings) as client:
        alice = await sign_up(client, "alice")
        posted = await client.post("/api/v1/statuses", data={"status": "hi", "access_token": alice.token})
        assert posted.status_code == 401


async def test_forwarded_for_is_ignored_from_an_untrusted_peer(settings: Settings) -> None:
    async with serving(settings, peer="203.0.113.7", rate_limit_per_ip=2) as client:
        codes = [(await client.get("/api/v1/timelines/public",
                                   headers={"X-Forwarded-For": f"198.51.100.{i}"})).status_code for i in range(3)]
        assert codes == [200, 200, 429]  # every made-up address is still the one peer


async def test_forwarded_for_is_honoured_from_a_trusted_proxy(settings: Settings) -> None:
    async with serving(settings, peer="10.0.0.5", rate_limit_per_ip=2,
                       trusted_proxies="10.0.0.0/8, 192.0.2.1") as client:
        async def get(forwarded: str) -> int:
            response = await client.get("/api/v1/timelines/public", headers={"X-Forwarded-For": forwarded})
            return response.status_code

        assert [await get("198.51.100.1"), await get("198.51.100.1")] == [200, 200]
        assert await get("198.51.100.1") == 429
        assert await get("198.51.100.2") == 200  # another client behind the same proxy: its own bucket
        # A client that writes its own X-Forwarded-For gets the rightmost untrusted hop: what the proxy saw.
        assert await get("6.6.6.6, 198.51.100.1") == 429
        assert await get("198.51.100.1, 192.0.2.1") == 429  # through two trusted proxies
        assert await get("198.51.100.3, 10.0.0.9") == 200


async def test_limits_hold_in_memory_while_redis_is_down(settings: Settings) -> None:
    def fallbacks() -> float:
        return REGISTRY.get_sample_value("stoa_rate_limit_fallback_total") or 0.0

    before = fallbacks()
    with capture_logs() as logs:
        async with serving(settings, rate_limit_per_token=4, redis_url="redis://127.0.0.1:1/0") as client:
            alice = await sign_up(client, "alice")
            codes = [(await client.get("/api/v1/timelines/home", headers=alice.headers)).status_code
                     for _ in range(4)]
            assert codes == [200, 200, 200, 429]
    assert fallbacks() - before >= 5  # each request counted in this process's memory instead
    warnings = [e for e in logs if e["event"] == "rate_limit_store_unavailable"]
    assert len(warnings) == 1 and warnings[0]["log_level"] == "warning"  # once per outage, not per request
    assert warnings[0]["fallback"] == "memory"


async def test_an_ipv6_client_has_one_bucket_for_its_whole_64(settings: Settings) -> None:
    """One host is usually given a /64 and can pick any address in it: the bucket is the /64."""
    from stoa.app import create_app

    app = create_app(settings.model_copy(update={"rate_limit_per_ip": 2}))
    codes = []
    try:
        for host in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", "2001:db8:1:2:abcd::3", "2001:db8:1:3::1"):
            transport = httpx.ASGITransport(app=app, client=(host, 40000))
            async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
                codes.append((await client.get("/api/v1/timelines/public")).status_code)
    finally:
        await app.state.store.dispose()
    assert codes == [200, 200, 429, 200]  # the next /64 is someone else
