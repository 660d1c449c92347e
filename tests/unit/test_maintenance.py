"""Home timelines are trimmed to their newest entries, account by account."""

from __future__ import annotations

from stoa.social.maintenance import trim_home_feeds
from tests.helpers import AppClient, drain, sign_up, upload
from tests.media_samples import jpeg_with_gps


async def test_trimming_keeps_the_newest_entries(client: AppClient) -> None:
    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    await client.post(f"/api/v1/accounts/{alice.id}/follow", headers=bob.headers)
    posted = [(await client.post("/api/v1/statuses", headers=alice.headers, data={"status": f"post {i}"})).json()["id"]
              for i in range(7)]
    await drain(client)
    db = client.db

    cursor, deleted = await trim_home_feeds(db, 0, batch=1, depth=3)  # one account per tick
    assert cursor == int(alice.id) and deleted == 4
    cursor, deleted = await trim_home_feeds(db, cursor, batch=1, depth=3)
    assert cursor == int(bob.id) and deleted == 4
    assert await trim_home_feeds(db, cursor, batch=1, depth=3) == (0, 0)  # the sweep starts over

    home = (await client.get("/api/v1/timelines/home", headers=bob.headers)).json()
    assert [s["id"] for s in home] == posted[::-1][:3]
    assert (await trim_home_feeds(db, 0, depth=3))[1] == 0  # nothing more to trim


async def test_stale_unattached_uploads_are_removed(client: AppClient, settings) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from stoa.media.storage import storage_for
    from stoa.social.maintenance import remove_unattached_media
    from stoa.store.schema import media_attachments

    alice = await sign_up(client, "alice")
    kept = (await upload(client, alice.headers, jpeg_with_gps((300, 200)))).json()
    stale = (await upload(client, alice.headers, jpeg_with_gps((320, 200)))).json()
    fresh = (await upload(client, alice.headers, jpeg_with_gps((340, 200)))).json()
    await client.post("/api/v1/statuses", headers=alice.headers, data={"media_ids[]": kept["id"]})
    db = client.db
    async with db.write() as conn:
        await conn.execute(update(media_attachments).where(media_attachments.c.id.in_([int(kept["id"]),
                                                                                       int(stale["id"])]))
                           .values(created_at=datetime.now(UTC) - timedelta(days=2)))
    stale_file = settings.media_root / stale["url"].split("/media/", 1)[1].split("?")[0]
    assert stale_file.exists()
    assert await remove_unattached_media(db, storage_for(settings, settings.region), timedelta(hours=24)) == 1
    assert not stale_file.exists()
    assert (await client.get(f"/api/v1/media/{stale['id']}", headers=alice.headers)).status_code == 404
    for survivor in (kept, fresh):
        assert (await client.get(f"/api/v1/media/{survivor['id']}", headers=alice.headers)).status_code == 200


async def test_the_sweep_goes_on_where_the_last_tick_stopped(client: AppClient, settings) -> None:
    """Each tick runs as a job on whichever worker claims it: the trimmer's position is stored, not kept
    in one process."""
    from datetime import timedelta

    from sqlalchemy import select

    from stoa.media.storage import storage_for
    from stoa.social.maintenance import TRIM_CURSOR, sweep_once
    from stoa.store.schema import consumer_cursors

    alice, bob = await sign_up(client, "alice"), await sign_up(client, "bob")
    db = client.db
    storage = storage_for(settings, settings.region)

    async def position() -> int | None:
        async with db.read() as conn:
            return (await conn.execute(select(consumer_cursors.c.position).where(
                consumer_cursors.c.name == TRIM_CURSOR))).scalar()

    await sweep_once(db, storage, 40, timedelta(hours=24), batch=1)
    assert await position() == int(alice.id)
    await sweep_once(db, storage, 40, timedelta(hours=24), batch=1)  # another worker's tick
    assert await position() == int(bob.id)
    await sweep_once(db, storage, 40, timedelta(hours=24), batch=1)
    assert await position() == 0  # the end: the next tick starts over
