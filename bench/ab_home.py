"""A/B of the home timeline over HTTP: this checkout against a baseline, on the same data, interleaved.

    python bench/ab_home.py --baseline 4bb5635 --only src/stoa/social/views.py   # one file's cost
    python bench/ab_home.py --baseline 4bb5635                                   # a whole revision's

The baseline is this checkout with ``--only`` paths taken from the baseline revision (or, without
``--only``, the whole tree at that revision, given this checkout's migrations so it can serve the same
database). Rounds alternate A and B (B first in odd rounds) so that drift of the machine falls on
both; each round starts a fresh ``stoa serve --processes N`` and measures with wrk after a warm-up.
Reports each side's median requests/s and p99, and the B/A throughput ratio with a 95 % bootstrap
confidence interval over the paired rounds. The community is bench/load.py's (made on first use); on
PostgreSQL its tables and indexes are read into the page cache before the first round.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.load import (
    RESULTS,
    ensure_pg_database,
    free_port,
    issue_tokens,
    prepare,
    settings_for,
    start_server,
    wrk,
)
from stoa.demo.community import CommunitySize
from stoa.store.migrate import upgrade

ROOT = Path(__file__).resolve().parent.parent


def baseline_tree(revision: str, only: list[str]) -> Path:
    """A source tree for the baseline, under bench/results/baseline/."""
    tree = RESULTS / "baseline"
    if tree.exists():
        shutil.rmtree(tree)
    if only:
        shutil.copytree(ROOT / "src", tree / "src")
        for path in only:
            content = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=ROOT, capture_output=True,
                                     check=True).stdout
            (tree / path).write_bytes(content)
    else:
        tree.mkdir(parents=True)
        archive = subprocess.run(["git", "archive", revision, "src"], cwd=ROOT, capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive.stdout, check=True)
        versions = "src/stoa/store/migrations/versions"
        for migration in (ROOT / versions).glob("*.py"):
            shutil.copy(migration, tree / versions / migration.name)
    return tree


async def prewarm(url: str) -> None:
    """Read every table and index into the operating system's page cache first: a machine that reclaims
    cold pages (as this one's DAMON does) otherwise measures its disk, not Stoa."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        await conn.fetchval("SELECT sum(pg_prewarm(c.oid, 'read')) FROM pg_class c "
                            "WHERE c.relkind IN ('r', 'i') AND c.relnamespace = 'public'::regnamespace")
    finally:
        await conn.close()


def bootstrap_ratio(a: list[float], b: list[float], draws: int = 10_000) -> tuple[float, float]:
    rng = random.Random(7)
    pairs = list(zip(a, b, strict=True))
    ratios = []
    for _ in range(draws):
        sample = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        ratios.append(statistics.median(y for _, y in sample) / statistics.median(x for x, _ in sample))
    ratios.sort()
    return ratios[int(0.025 * draws)], ratios[int(0.975 * draws)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--baseline", required=True, help="git revision of the baseline")
    parser.add_argument("--only", nargs="*", default=[], help="paths taken from the baseline revision")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=20,
                        help="seconds of traffic before measuring (each process loads its indexes first)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    RESULTS.mkdir(parents=True, exist_ok=True)
    settings = settings_for(args.backend, f"{args.accounts}x{args.posts}")
    if args.backend == "postgresql":
        asyncio.run(ensure_pg_database(settings.resolved_database_url.rsplit("/", 1)[1], False))
    upgrade(settings)
    size = CommunitySize(accounts=args.accounts, posts=args.posts, follows_per_account=20, follow_exponent=0.7,
                         posting_exponent=0.3, celebrity_followers=10_000, likes_per_post=1.0)
    asyncio.run(prepare(settings, size))
    tokens, _, _ = asyncio.run(issue_tokens(settings, 2000))
    tokens_file = RESULTS / f"tokens-ab-{args.backend}.txt"
    tokens_file.write_text("\n".join(tokens) + "\n")
    if args.backend == "postgresql":
        asyncio.run(prewarm(settings.resolved_database_url))
    trees = {"A (baseline)": baseline_tree(args.baseline, args.only) / "src", "B (this checkout)": ROOT / "src"}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for round_ in range(args.rounds):
        order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
        for name in order:
            port = free_port()
            env = {"PYTHONPATH": str(trees[name]), "STOA_RECSYS_RETRAIN_HOURS": "0"}
            server = start_server(settings, port, args.processes, extra_env=env)
            try:
                url = f"http://127.0.0.1:{port}"
                wrk("home.lua", url, tokens_file, 8, args.warmup)  # warm caches and pools
                result = wrk("home.lua", url, tokens_file, args.connections, args.seconds)
            finally:
                server.terminate()
                server.wait(timeout=30)
            runs[name].append(result)
            print(f"round {round_ + 1} {name}: {result['requests_per_second']} req/s, p99 {result['p99_ms']} ms",
                  flush=True)
    a, b = ([r["requests_per_second"] for r in runs[n]] for n in trees)
    low, high = bootstrap_ratio(a, b)
    summary = {
        "baseline": args.baseline, "only": args.only, "backend": args.backend, "processes": args.processes,
        "connections": args.connections, "accounts": args.accounts, "posts": args.posts,
        "median_rps": {n: statistics.median(r["requests_per_second"] for r in runs[n]) for n in trees},
        "median_p99_ms": {n: statistics.median(r["p99_ms"] for r in runs[n]) for n in trees},
        "ratio_b_over_a": round(statistics.median(b) / statistics.median(a), 4),
        "ratio_95ci": [round(low, 4), round(high, 4)], "runs": runs,
        "machine": {"cpus": os.cpu_count()}, "date": time.strftime("%Y-%m-%d"),
    }
    out = RESULTS / f"ab-home-{args.backend}-c{args.connections}.json"
    out.write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
