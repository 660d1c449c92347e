"""Load benchmark over HTTP: home timeline and For You reads, post creation, and fan-out to 10,000 followers.

    python bench/load.py --backend sqlite       # or --backend postgresql
    python bench/load.py --backend postgresql --accounts 100000 --posts 1000000
    python bench/load.py --backend postgresql --processes 2 --for-you-only --warmup 20  # For You at 1 and 4 connections

Generates the community once per backend (kept under bench/results/ or in the PostgreSQL database
``stoa_bench``), starts ``stoa serve`` as a separate process with rate limits off, drives it with
``wrk`` (Debian package ``wrk``) from the other core, and writes the numbers to
bench/results/load-<backend>.json. Results go into docs/benchmarks.md by hand, with the machine.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from sqlalchemy import func, select, text

from stoa.config import Settings
from stoa.demo.community import CommunitySize, generate
from stoa.social import oauth
from stoa.social.accounts import hash_password
from stoa.store.database import Database
from stoa.store.migrate import upgrade
from stoa.store.schema import accounts, follows, home_feed

HERE = Path(__file__).parent
RESULTS = HERE / "results"
PG_ADMIN = os.environ.get("STOA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def settings_for(backend: str, tag: str) -> Settings:
    data_dir = RESULTS / f"data-{backend}-{tag}"
    if backend == "sqlite":
        return Settings(data_dir=data_dir, database_url="")
    base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1)
    return Settings(data_dir=data_dir, database_url=f"{base}/stoa_bench_{tag}")


async def ensure_pg_database(name: str, fresh: bool) -> None:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and fresh:
            await conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


async def prepare(settings: Settings, size: CommunitySize) -> dict[str, Any]:
    db = Database(settings.resolved_database_url)
    try:
        async with db.read() as conn:
            existing = (await conn.execute(select(func.count()).select_from(accounts))).scalar_one()
        if existing:
            print(f"community already generated ({existing} accounts)")
            return {"generated_seconds": None}
        started = time.perf_counter()
        last = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 5 or done == total:
                last[0] = time.perf_counter()
                print(f"  {stage}: {done}/{total} ({time.perf_counter() - started:.0f}s)", flush=True)

        counts = await generate(db, size, region=settings.region, base_url=settings.base_url,
                                password_hash=await hash_password("bench password"), progress=progress)
        if not db.is_sqlite:
            async with db.write() as conn:
                await conn.execute(text("ANALYZE"))
        return {"generated_seconds": round(time.perf_counter() - started, 1), **counts}
    finally:
        await db.dispose()


async def issue_tokens(settings: Settings, how_many: int) -> tuple[list[str], str, int]:
    """Tokens for random accounts that follow someone, plus one for the star (account #1)."""
    db = Database(settings.resolved_database_url)
    try:
        async with db.write() as conn:
            app = await oauth.create_app(conn, "bench", oauth.OOB, "read write follow", None)
            ids = [int(x) for x in (await conn.execute(
                select(follows.c.account_id).distinct().limit(how_many * 5))).scalars()]
            random.Random(3).shuffle(ids)
            tokens = [await oauth.issue_token(conn, int(app["id"]), i, ["read", "write"], settings.region)
                      for i in ids[:how_many]]
            star = (await conn.execute(select(accounts.c.id).where(accounts.c.username == "star"))).scalar_one()
            star_token = await oauth.issue_token(conn, int(app["id"]), int(star), ["read", "write"], settings.region)
            star_followers = (await conn.execute(select(func.count()).select_from(follows).where(
                follows.c.target_account_id == star))).scalar_one()
        return tokens, star_token, int(star_followers)
    finally:
        await db.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(settings: Settings, port: int, processes: int = 1,
                 extra_env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    env = {**os.environ, "STOA_DATA_DIR": str(settings.data_dir), "STOA_DATABASE_URL": settings.database_url,
           "STOA_PORT": str(port), "STOA_RATE_LIMIT_ENABLED": "false", "STOA_LOG_LEVEL": "warning",
           "STOA_WORKER_POLL_SECONDS": "0.1", **(extra_env or {})}
    log = (RESULTS / f"server-{port}.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "stoa.cli", "serve", "--processes", str(processes)],
                               env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def wrk(script: str, url: str, tokens_file: Path, connections: int, seconds: int, *extra: str) -> dict[str, Any]:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s",
                          str(HERE / script), url, "--", str(tokens_file), *extra],
                         capture_output=True, text=True, check=True).stdout
    line = next(x for x in out.splitlines() if x.startswith("JSON "))
    data = json.loads(line[5:])
    seconds_run = data["duration_us"] / 1e6
    return {"connections": connections, "seconds": round(seconds_run, 1), "requests": data["requests"],
            "requests_per_second": round(data["requests"] / seconds_run, 1), "errors": data["errors"],
            "non_2xx": data["non2xx"], "p50_ms": data["p50_us"] / 1000, "p90_ms": data["p90_us"] / 1000,
            "p99_ms": data["p99_us"] / 1000, "max_ms": data["max_us"] / 1000}


async def drain_seconds(settings: Settings) -> float:
    """Seconds until every consumer has caught up with the outbox (after a burst of writes)."""
    from stoa.store.schema import consumer_cursors, events

    db = Database(settings.resolved_database_url)
    started = time.perf_counter()
    try:
        while time.perf_counter() - started < 600:
            async with db.read() as conn:
                newest = (await conn.execute(select(func.max(events.c.id)))).scalar() or 0
                slowest = (await conn.execute(select(func.min(consumer_cursors.c.position)))).scalar() or 0
            if slowest >= newest:
                break
            await asyncio.sleep(0.05)
    finally:
        await db.dispose()
    return time.perf_counter() - started


async def fanout_seconds(settings: Settings, url: str, star_token: str, expected: int, rounds: int) -> list[float]:
    """Post as the star; time until the post is in every follower's home timeline (and check some via HTTP)."""
    db = Database(settings.resolved_database_url)
    results = []
    try:
        async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {star_token}"}) as client:
            for i in range(rounds):
                started = time.perf_counter()
                response = await client.post("/api/v1/statuses", data={"status": f"Fan-out round {i} #bench"})
                response.raise_for_status()
                status_id = int(response.json()["id"])
                while True:
                    async with db.read() as conn:
                        reached = (await conn.execute(select(func.count()).select_from(home_feed).where(
                            home_feed.c.status_id == status_id))).scalar_one()
                    if reached >= expected + 1:  # followers + the star's own home
                        break
                    if time.perf_counter() - started > 120:
                        raise RuntimeError(f"fan-out stalled at {reached}")
                    await asyncio.sleep(0.005)
                results.append(round(time.perf_counter() - started, 3))
                await asyncio.sleep(1)
    finally:
        await db.dispose()
    return results


async def spot_check_followers(settings: Settings, url: str, app_tokens: int = 5) -> bool:
    """A few followers of the star really see its last post at the top of their home timeline via HTTP."""
    db = Database(settings.resolved_database_url)
    try:
        async with db.write() as conn:
            star = (await conn.execute(select(accounts.c.id).where(accounts.c.username == "star"))).scalar_one()
            fans = [int(x) for x in (await conn.execute(select(follows.c.account_id).where(
                follows.c.target_account_id == star).limit(app_tokens))).scalars()]
            app = await oauth.create_app(conn, "bench-check", oauth.OOB, "read", None)
            tokens = [await oauth.issue_token(conn, int(app["id"]), f, ["read"], settings.region) for f in fans]
    finally:
        await db.dispose()
    async with httpx.AsyncClient(base_url=url) as client:
        for token in tokens:
            home = (await client.get("/api/v1/timelines/home", params={"limit": 1},
                                     headers={"Authorization": f"Bearer {token}"})).json()
            if not home or home[0]["account"]["username"] != "star":
                return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--star-followers", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--fresh", action="store_true", help="regenerate the community")
    parser.add_argument("--processes", type=int, default=1, help="server processes (PostgreSQL only)")
    parser.add_argument("--for-you-only", action="store_true", help="measure the For You page only")
    parser.add_argument("--warmup", type=int, default=45,
                        help="seconds of For You traffic before measuring it (each process loads its "
                             "content-similarity index in the background first)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    RESULTS.mkdir(parents=True, exist_ok=True)
    tag = f"{args.accounts}x{args.posts}"
    settings = settings_for(args.backend, tag)
    if args.backend == "postgresql":
        asyncio.run(ensure_pg_database(settings.resolved_database_url.rsplit("/", 1)[1], args.fresh))
    elif args.fresh and settings.data_dir.exists():
        shutil.rmtree(settings.data_dir)
    upgrade(settings)
    size = CommunitySize(accounts=args.accounts, posts=args.posts, follows_per_account=20, follow_exponent=0.7,
                         posting_exponent=0.3, celebrity_followers=args.star_followers, likes_per_post=1.0)
    print(f"[{args.backend}] community {args.accounts} accounts / {args.posts} posts")
    generation = asyncio.run(prepare(settings, size))
    # Build the content-similarity index once and save it: server processes start from the file.
    subprocess.run([sys.executable, "-m", "stoa.cli", "recsys", "index"], check=True, env={
        **os.environ, "STOA_DATA_DIR": str(settings.data_dir), "STOA_DATABASE_URL": settings.database_url})
    tokens, star_token, star_followers = asyncio.run(issue_tokens(settings, 2000))
    tokens_file = RESULTS / f"tokens-{args.backend}.txt"
    tokens_file.write_text("\n".join(tokens) + "\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server = start_server(settings, port, args.processes)
    try:
        if args.for_you_only:
            wrk("home.lua", url, tokens_file, 2, args.warmup, "/api/v1/timelines/for_you?limit=20")
            one = wrk("home.lua", url, tokens_file, 1, args.seconds, "/api/v1/timelines/for_you?limit=20")
            four = wrk("home.lua", url, tokens_file, 4, args.seconds, "/api/v1/timelines/for_you?limit=20")
            print(json.dumps({"for_you_1_connection": one, "for_you_4_connections": four,
                              "processes": args.processes}, indent=2))
            return
        wrk("home.lua", url, tokens_file, 8, 5)  # warm caches
        home = wrk("home.lua", url, tokens_file, args.connections, args.seconds)
        print("home timeline:", home)
        home_light = wrk("home.lua", url, tokens_file, 4, args.seconds)
        print("home timeline, 4 connections:", home_light)
        wrk("home.lua", url, tokens_file, 2, args.warmup, "/api/v1/timelines/for_you?limit=20")
        for_you = wrk("home.lua", url, tokens_file, 4, args.seconds, "/api/v1/timelines/for_you?limit=20")
        print("For You, 4 connections:", for_you)
        create = wrk("post.lua", url, tokens_file, 16, max(10, args.seconds // 2))
        print("post creation:", create)
        backlog = asyncio.run(drain_seconds(settings))
        print(f"fan-out backlog of the write phase drained {backlog:.1f} s after it ended")
        fanout = asyncio.run(fanout_seconds(settings, url, star_token, star_followers, 5))
        print("fan-out to", star_followers, "followers (s):", fanout)
        visible = asyncio.run(spot_check_followers(settings, url))
    finally:
        server.terminate()
        server.wait(timeout=30)
    result = {
        "backend": args.backend, "processes": args.processes, "accounts": args.accounts, "posts": args.posts,
        "generation": generation,
        "home_timeline": home, "home_timeline_4_connections": home_light,
        "for_you_4_connections": for_you, "post_creation": create,
        "write_phase_backlog_drained_seconds": round(backlog, 2),
        "fanout": {"followers": star_followers, "seconds": fanout, "median_seconds": statistics.median(fanout),
                   "spot_check_via_http": visible},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "date": time.strftime("%Y-%m-%d"),
    }
    (RESULTS / f"load-{args.backend}-p{args.processes}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
