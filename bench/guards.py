"""What the residency guards cost: fan-out of one post to 10,000 followers, with and without them.

    python bench/guards.py --backend sqlite        # or --backend postgresql

A fresh store with 10,001 accounts, 10,000 of them following a star. The star posts; the home
fan-out consumer writes the post into 10,000 home timelines (one INSERT ... SELECT, each row
checked by the guard trigger: is its owner homed in this region?). Median of 7 rounds, with the
guards installed and with them dropped. Writes bench/results/guards-<backend>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, text

from stoa.config import Settings
from stoa.social.consumers import HomeFanout
from stoa.social.events import StatusCreated
from stoa.social.streaming import Broker, LocalHub
from stoa.store.database import Database
from stoa.store.events import Entry
from stoa.store.ids import new_id
from stoa.store.migrate import upgrade
from stoa.store.schema import accounts, follows, home_feed, statuses

HERE = Path(__file__).parent
RESULTS = HERE / "results"
PG_ADMIN = os.environ.get("STOA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def fanout_round(db: Database, fanout: HomeFanout, star: int) -> float:
    post = new_id()
    async with db.write() as conn:
        await conn.execute(statuses.insert().values(id=post, account_id=star, text="x", content="x", spoiler_text="",
                                                    sensitive=False, visibility="public",
                                                    created_at=datetime.now(UTC)))
    started = time.perf_counter()
    async with db.write() as conn:
        event = StatusCreated(status_id=post, account_id=star, visibility="public")
        await fanout.handle(conn, [Entry(0, event.type, event)])
    elapsed = time.perf_counter() - started
    async with db.write() as conn:
        await conn.execute(delete(home_feed).where(home_feed.c.status_id == post))
    return elapsed


async def measure(settings: Settings, followers: int, rounds: int) -> dict[str, Any]:
    db = Database(settings.resolved_database_url, settings.region)
    try:
        now = datetime.now(UTC)
        ids = [new_id() for _ in range(followers + 1)]
        star = ids[0]
        async with db.write() as conn:
            await conn.execute(accounts.insert(), [
                {"id": i, "username": f"u{n}", "username_lower": f"u{n}", "display_name": "", "note": "",
                 "region": settings.region, "created_at": now, "updated_at": now} for n, i in enumerate(ids)])
            await conn.execute(follows.insert(), [
                {"id": new_id(), "account_id": i, "target_account_id": star, "created_at": now} for i in ids[1:]])
        fanout = HomeFanout(db, LocalHub(Broker(), None), settings.region)  # type: ignore[arg-type]
        results: dict[str, Any] = {}
        for label in ("with_guards", "without_guards"):
            if label == "without_guards":
                async with db.write() as conn:
                    if db.is_sqlite:
                        await conn.execute(text("DROP TRIGGER residency_home_feed_insert"))
                    else:
                        await conn.execute(text("DROP TRIGGER residency_guard_insert ON home_feed"))
            await fanout_round(db, fanout, star)  # warm up
            times = [await fanout_round(db, fanout, star) for _ in range(rounds)]
            results[label] = {"median_s": round(statistics.median(times), 4), "runs_s": [round(t, 4) for t in times]}
        results["overhead"] = round(results["with_guards"]["median_s"] / results["without_guards"]["median_s"], 2)
        return results
    finally:
        await db.dispose()


async def pg_admin(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(PG_ADMIN)
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--followers", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = ""
        if args.backend == "postgresql":
            asyncio.run(pg_admin('DROP DATABASE IF EXISTS "stoa_bench_guards" WITH (FORCE)',
                                 'CREATE DATABASE "stoa_bench_guards"'))
            url = PG_ADMIN.rpartition("/")[0].replace("postgresql://", "postgresql+asyncpg://") + "/stoa_bench_guards"
        settings = Settings(data_dir=Path(tmp), database_url=url)
        try:
            upgrade(settings)
            result = asyncio.run(measure(settings, args.followers, args.rounds))
        finally:
            if url:
                asyncio.run(pg_admin('DROP DATABASE IF EXISTS "stoa_bench_guards" WITH (FORCE)'))
    result.update({"backend": args.backend, "followers": args.followers,
                   "machine": {"cpus": os.cpu_count(), "python": platform.python_version()}})
    (RESULTS / f"guards-{args.backend}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
