"""Freshness of For You: how long after an action its effect shows on the viewer's next page.

    python bench/freshness.py --backend postgresql      # the 100k / 1M community of bench/load.py
    python bench/freshness.py --backend sqlite --accounts 2000 --posts 20000

Starts ``stoa serve`` on the community bench/load.py generated (or generates it), then, for each of
``--trials`` random viewers, times three paths from the moment the API call returned:

* seen — the top post of the page is reported viewed (``POST /api/v1/stoa/feeds/views``): until the
  next page no longer holds it (read at request time);
* follow — the viewer follows someone new: until that person's newest post is an *in-network*
  candidate on the next page (``explain``), which waits for the fan-out consumer's backfill;
* trending — a like on a post in the trending window: until ``trending_posts`` holds the new
  engagement (the trending consumer).

Writes bench/results/freshness-<backend>.json; numbers go into docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import and_, func, select

sys.path.insert(0, str(Path(__file__).parent))
import load
from stoa.demo.community import CommunitySize
from stoa.feeds.trending import window_start
from stoa.store.database import Database
from stoa.store.migrate import upgrade
from stoa.store.schema import follows, statuses, trending_posts

POLL = 0.005


async def until(check: Any, patience: float = 30.0) -> float:
    started = time.perf_counter()
    while not await check():
        if time.perf_counter() - started > patience:
            raise TimeoutError("the effect never showed")
        await asyncio.sleep(POLL)
    return time.perf_counter() - started


async def trial(client: httpx.AsyncClient, db: Database, viewer: int, token: str, rng: random.Random,
                ) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"}
    out: dict[str, float] = {}

    async def page() -> list[str]:
        response = await client.get("/api/v1/timelines/for_you", params={"limit": 20}, headers=headers)
        response.raise_for_status()
        return [s["id"] for s in response.json()]

    top = (await page())[0]
    (await client.post("/api/v1/stoa/feeds/views", headers=headers, data={"status_id": top, "watched_ms": 4000})
     ).raise_for_status()

    async def seen_gone() -> bool:
        return top not in await page()
    out["seen_s"] = await until(seen_gone)

    async with db.read() as conn:
        followed = select(follows.c.target_account_id).where(follows.c.account_id == viewer)
        newest = (await conn.execute(select(statuses.c.account_id, func.max(statuses.c.id)).where(
            statuses.c.account_id.not_in(followed), statuses.c.account_id != viewer,
            statuses.c.visibility == "public", statuses.c.reblog_of_id.is_(None),
            statuses.c.in_reply_to_id.is_(None), statuses.c.deleted_at.is_(None),
            statuses.c.id > window_start()).group_by(statuses.c.account_id)
            .order_by(func.max(statuses.c.id).desc()).limit(500))).all()
    author, post = (int(x) for x in rng.choice(newest))
    (await client.post(f"/api/v1/accounts/{author}/follow", headers=headers)).raise_for_status()

    async def in_network() -> bool:
        why = await client.get(f"/api/v1/stoa/feeds/for_you/explain/{post}", headers=headers)
        why.raise_for_status()
        return why.status_code == 200 and "in-network" in why.json().get("sources", [])
    out["follow_s"] = await until(in_network)

    async with db.read() as conn:
        target = rng.choice((await conn.execute(select(statuses.c.id).where(
            statuses.c.visibility == "public", statuses.c.reblog_of_id.is_(None), statuses.c.deleted_at.is_(None),
            statuses.c.language.is_not(None), statuses.c.account_id != viewer, statuses.c.id > window_start())
            .order_by(statuses.c.id.desc()).limit(5000))).scalars().all())
        before = (await conn.execute(select(trending_posts.c.engagement).where(
            trending_posts.c.status_id == target))).scalar() or 0
    (await client.post(f"/api/v1/statuses/{target}/favourite", headers=headers)).raise_for_status()

    async def counted() -> bool:
        async with db.read() as conn:
            now = (await conn.execute(select(trending_posts.c.engagement).where(and_(
                trending_posts.c.status_id == target)))).scalar() or 0
        return bool(now > before)
    out["trending_s"] = await until(counted)
    return out


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))] * 1000, 1),
            "max_ms": round(ordered[-1] * 1000, 1)}


async def run(settings: Any, url: str, tokens: list[tuple[int, str]], trials: int) -> dict[str, Any]:
    rng = random.Random(11)
    db = Database(settings.resolved_database_url)
    results: list[dict[str, float]] = []
    try:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            for viewer, token in rng.sample(tokens, trials):
                results.append(await trial(client, db, viewer, token, rng))
    finally:
        await db.dispose()
    return {key: summary([r[key] for r in results]) for key in results[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--poll-seconds", type=float, default=0.1, help="STOA_WORKER_POLL_SECONDS of the server")
    args = parser.parse_args()
    load.RESULTS.mkdir(parents=True, exist_ok=True)
    settings = load.settings_for(args.backend, f"{args.accounts}x{args.posts}")
    if args.backend == "postgresql":
        asyncio.run(load.ensure_pg_database(settings.resolved_database_url.rsplit("/", 1)[1], False))
    upgrade(settings)
    size = CommunitySize(accounts=args.accounts, posts=args.posts, follows_per_account=20, follow_exponent=0.7,
                         posting_exponent=0.3, celebrity_followers=min(10_000, args.accounts // 2),
                         likes_per_post=1.0)
    asyncio.run(load.prepare(settings, size))
    tokens = asyncio.run(viewer_tokens(settings, max(args.trials * 3, 50)))
    os.environ["STOA_WORKER_POLL_SECONDS"] = str(args.poll_seconds)
    port = load.free_port()
    server = load.start_server(settings, port)
    try:
        found = asyncio.run(run(settings, f"http://127.0.0.1:{port}", tokens, args.trials))
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {"backend": args.backend, "accounts": args.accounts, "posts": args.posts, "trials": args.trials,
              "worker_poll_seconds": args.poll_seconds, **found,
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform()}, "date": time.strftime("%Y-%m-%d")}
    (load.RESULTS / f"freshness-{args.backend}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


async def viewer_tokens(settings: Any, how_many: int) -> list[tuple[int, str]]:
    from stoa.social import oauth

    db = Database(settings.resolved_database_url)
    try:
        async with db.write() as conn:
            app = await oauth.create_app(conn, "bench-freshness", oauth.OOB, "read write follow", None)
            ids = [int(x) for x in (await conn.execute(
                select(follows.c.account_id).distinct().limit(how_many * 5))).scalars()]
            random.Random(5).shuffle(ids)
            return [(i, await oauth.issue_token(conn, int(app["id"]), i, ["read", "write", "follow"],
                                                settings.region)) for i in ids[:how_many]]
    finally:
        await db.dispose()


if __name__ == "__main__":
    main()
