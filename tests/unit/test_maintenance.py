"""Home timelines are trimmed to their newest entries, account by account."""

from __future__ import annotations

import httpx

from stoa.social.maintenance import trim_home_feeds
from tests.helpers import drain, sign_up


async def test_trimming_keeps_the_newest_entries(client: httpx.AsyncClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    posted = [(await client.post("/api/v1/statuses", headers=alice.headers, data={"status": f"post {i}"})).json()["id"]
              for i in range(7)]
    await drain(client)
    db = client.app.state.store.db  # type: ignore[attr-defined]

    cursor, deleted = await trim_home_feeds(db, 0, batch=1, depth=3)  # one account per tick
    assert cursor == int(alice.id) and deleted == 4
    cursor, deleted = await trim_home_feeds(db, cursor, batch=1, depth=3)
    assert cursor == int(bob.id) and deleted == 4
    assert await trim_home_feeds(db, cursor, batch=1, depth=3) == (0, 0)  # the sweep starts over

    home = (await client.get("/api/v1/timelines/home", headers=bob.headers)).json()
    assert [s["id"] for s in home] == posted[::-1][:3]
    assert (await trim_home_feeds(db, 0, depth=3))[1] == 0  # nothing more to trim
