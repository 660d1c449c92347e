"""Things redeemed once: of concurrent attempts exactly one wins, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from stoa.config import Settings
from stoa.social.accounts import NewAccount, create_account
from stoa.store.ids import new_id
from stoa.store.redemption import claim_once, redeem_once
from stoa.store.regions import Store
from stoa.store.schema import apps, idempotency_keys, oauth_codes


async def test_one_winner_among_concurrent_attempts(settings: Settings) -> None:
    store = Store(settings)
    db = store.db
    try:
        now = datetime.now(UTC)
        async with db.write() as conn:
            account = await create_account(conn, NewAccount("alice", "alice@example.org", "x" * 12),
                                           default_region=settings.region, password_hash="-")
            app_id = new_id()
            await conn.execute(apps.insert().values(id=app_id, name="a", redirect_uris="x", scopes="read",
                                                    client_id="c", client_secret="s", created_at=now))
            await conn.execute(oauth_codes.insert().values(code_hash="h", app_id=app_id, account_id=account,
                                                           redirect_uri="x", scopes="read", created_at=now))

        async def redeem() -> bool:
            async with db.write() as conn:
                row = await redeem_once(conn, oauth_codes, oauth_codes.c.code_hash == "h")
                await asyncio.sleep(0.01)  # hold the transaction open while the others try
                return row is not None and row.used_at is not None

        async def claim(status_id: int) -> bool:
            async with db.write() as conn:
                won = await claim_once(conn, idempotency_keys, {
                    "account_id": account, "key": "k", "status_id": status_id, "created_at": now})
                await asyncio.sleep(0.01)
                return won

        assert sorted(await asyncio.gather(*(redeem() for _ in range(8)))) == [False] * 7 + [True]
        assert sorted(await asyncio.gather(*(claim(i) for i in range(8)))) == [False] * 7 + [True]
        async with db.write() as conn:  # nothing matches: no winner at all
            assert await redeem_once(conn, oauth_codes, oauth_codes.c.code_hash == "unknown") is None
    finally:
        await store.dispose()
