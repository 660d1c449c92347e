"""For You ranking in process on bench/load.py's community: the feed's own time, without HTTP.

    python bench/for_you_inprocess.py [--viewers 200] [--profile]

Ranks a first page for random viewers who have liked something (so every source runs: in-network,
co-engagement, similar, trending, exploration) and prints p50/p90/p99 in milliseconds; ``--profile``
adds the cProfile of the second half. Needs the PostgreSQL community (run bench/load.py first).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import json
import pstats
import random
import statistics
import sys
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).parent))
import load
from stoa.core.context import Context
from stoa.feeds import for_you, similar
from stoa.store.regions import Store
from stoa.store.schema import favourites


async def main(viewers: int, profile: bool, sort: str = "cumulative") -> None:
    settings = load.settings_for("postgresql", "100000x1000000")
    store = Store(settings)
    ctx = Context(store=store, settings=settings)
    async with ctx.db.read() as conn:
        likers = [int(x) for x in (await conn.execute(
            select(favourites.c.account_id).distinct().limit(viewers * 20))).scalars()]
    sample = random.Random(1).sample(likers, viewers)
    index = similar.index_for(ctx.db, settings, ctx.home)
    await for_you.for_you(ctx, sample[0], 0, 20)
    for _ in range(120):  # the saved index loads in the background
        if index.ready:
            break
        await asyncio.sleep(0.5)
    for viewer in sample[:10]:  # warm the connection pool and caches
        await for_you.for_you(ctx, viewer, 0, 20)
    gc.collect()
    gc.freeze()  # as the server does after startup (src/stoa/app.py)
    profiler = cProfile.Profile()
    times: list[float] = []
    for n, viewer in enumerate(sample):
        started = time.perf_counter()
        if profile and n >= viewers // 2:
            profiler.enable()
        await for_you.for_you(ctx, viewer, 0, 20)
        profiler.disable()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    print(json.dumps({"viewers": viewers, "p50_ms": round(statistics.median(times), 1),
                      "p90_ms": round(times[int(len(times) * 0.9)], 1),
                      "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1)}))
    if profile:
        pstats.Stats(profiler).sort_stats(sort).print_stats(30)
    await store.dispose()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--sort", default="cumulative", help="the profile's order: cumulative or tottime")
    args = parser.parse_args()
    asyncio.run(main(args.viewers, args.profile, args.sort))
