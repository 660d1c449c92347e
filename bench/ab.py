"""A/B over HTTP: this checkout against a baseline, on the same data, interleaved.

    python bench/ab.py --baseline 4bb5635                                   # a whole revision's cost
    python bench/ab.py --baseline 4bb5635 --only src/stoa/social/views.py   # one file's
    python bench/ab.py --patch bench/patches/home-without-visibility-rule.patch  # one change's
    python bench/ab.py --baseline 247f05b --workload post                   # post creation
    python bench/ab.py --baseline 247f05b --workload fanout                 # fan-out to the star's followers

Workloads: ``home`` (GET /api/v1/timelines/home?limit=20 as random users, 4 connections), ``post``
(POST /api/v1/statuses as random users, 16 connections; the server's CPU is counted until the
consumers have drained what the posts caused, fan-out included) and ``fanout`` (the ``star`` account,
followed by every account or by 10,000, posts; the clock stops when the post is in every follower's
home timeline; three posts a round, their median).

The baseline is the whole tree at the baseline revision (given this checkout's migrations so it can
serve the same database); with ``--only``, this checkout with those paths taken from that revision;
with ``--patch``, this checkout with a patch applied (``patch -p1``), which keeps a cost measurable
after the code around it has moved on. Rounds alternate A and B (B first in odd rounds) so that drift
of the machine falls on both; each round starts a fresh ``stoa serve --processes N`` and measures
after a warm-up. Reports each side's median (requests/s or seconds), p99 and server CPU time per
request, and the B/A ratios of the median and of CPU per request, each with a 95 % bootstrap
confidence interval over the paired rounds. The community is bench/load.py's (made on first use);
on PostgreSQL its tables and indexes are read into the page cache before the first round.
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
    drain_seconds,
    ensure_pg_database,
    fanout_seconds,
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


def baseline_tree(revision: str | None, only: list[str], patch: Path | None) -> Path:
    """A source tree for the baseline, under bench/results/baseline/."""
    tree = RESULTS / "baseline"
    if tree.exists():
        shutil.rmtree(tree)
    if patch is not None:
        shutil.copytree(ROOT / "src", tree / "src")
        subprocess.run(["patch", "-s", "-p1", "-d", str(tree), "-i", str(patch.resolve())], check=True)
    elif revision is None:
        raise SystemExit("give --baseline or --patch")
    elif only:
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


def cpu_seconds(root_pid: int) -> float:
    """CPU time (user + system) used so far by a process and all its descendants, from /proc.

    Throughput on a shared two-core machine moves with whatever else runs; the server's CPU time per
    request moves far less, so it is reported beside requests/s as the steadier measure of cost."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    family, frontier = {root_pid}, [root_pid]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in family]
        family.update(children)
        frontier.extend(children)
    return sum(times.get(pid, 0.0) for pid in family)


def bootstrap_ratio(a: list[float], b: list[float], draws: int = 10_000) -> tuple[float, float]:
    rng = random.Random(7)
    pairs = list(zip(a, b, strict=True))
    ratios = []
    for _ in range(draws):
        sample = [pairs[rng.randrange(len(pairs))] for _ in pairs]
        ratios.append(statistics.median(y for _, y in sample) / statistics.median(x for x, _ in sample))
    ratios.sort()
    return ratios[int(0.025 * draws)], ratios[int(0.975 * draws)]


class Target:
    """One server of a round, and what a workload needs to drive it."""

    def __init__(self, settings: Any, server: subprocess.Popen[bytes], url: str, tokens_file: Path,
                 star_token: str, star_followers: int) -> None:
        self.settings, self.server, self.url = settings, server, url
        self.tokens_file, self.star_token, self.star_followers = tokens_file, star_token, star_followers


def measure(workload: str, target: Target, connections: int, seconds: int, warmup: int) -> dict[str, Any]:
    """One side of one round: the workload's figure, and the server's CPU time per request."""
    if workload == "fanout":
        asyncio.run(fanout_seconds(target.settings, target.url, target.star_token, target.star_followers, 1))
        cpu_before = cpu_seconds(target.server.pid)
        times = asyncio.run(fanout_seconds(target.settings, target.url, target.star_token,
                                           target.star_followers, 3))
        return {"value": statistics.median(times), "seconds": times, "p99_ms": None,
                "server_cpu_ms_per_request": round(1000 * (cpu_seconds(target.server.pid) - cpu_before) / 3, 3)}
    script = {"home": "home.lua", "post": "post.lua"}[workload]
    wrk(script, target.url, target.tokens_file, 8, warmup)  # warm caches and pools
    if workload == "post":
        asyncio.run(drain_seconds(target.settings))
    cpu_before = cpu_seconds(target.server.pid)
    result = wrk(script, target.url, target.tokens_file, connections, seconds)
    if workload == "post":  # what the posts set off in the background is part of their cost
        result["drained_seconds_after"] = round(asyncio.run(drain_seconds(target.settings)), 2)
    result["server_cpu_ms_per_request"] = round(
        1000 * (cpu_seconds(target.server.pid) - cpu_before) / max(1, result["requests"]), 3)
    result["value"] = result["requests_per_second"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1_000_000)
    parser.add_argument("--baseline", help="git revision of the baseline")
    parser.add_argument("--patch", type=Path, help="the baseline is this checkout with this patch applied")
    parser.add_argument("--only", nargs="*", default=[], help="paths taken from the baseline revision")
    parser.add_argument("--workload", choices=["home", "post", "fanout"], default="home")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, help="default: 4 for home, 16 for post")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--warmup", type=int, default=20,
                        help="seconds of traffic before measuring (each process loads its indexes first)")
    args = parser.parse_args()
    connections = args.connections or (16 if args.workload == "post" else 4)
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
    tokens, star_token, star_followers = asyncio.run(issue_tokens(settings, 2000))
    tokens_file = RESULTS / f"tokens-ab-{args.backend}.txt"
    tokens_file.write_text("\n".join(tokens) + "\n")
    if args.backend == "postgresql":
        asyncio.run(prewarm(settings.resolved_database_url))
    baseline = baseline_tree(args.baseline, args.only, args.patch) / "src"
    trees = {"A (baseline)": baseline, "B (this checkout)": ROOT / "src"}
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for round_ in range(args.rounds):
        order = list(trees) if round_ % 2 == 0 else list(reversed(trees))
        for name in order:
            port = free_port()
            env = {"PYTHONPATH": str(trees[name]), "STOA_RECSYS_RETRAIN_HOURS": "0"}
            server = start_server(settings, port, args.processes, extra_env=env)
            try:
                target = Target(settings, server, f"http://127.0.0.1:{port}", tokens_file, star_token,
                                star_followers)
                result = measure(args.workload, target, connections, args.seconds, args.warmup)
            finally:
                server.terminate()
                server.wait(timeout=30)
            runs[name].append(result)
            unit = "s" if args.workload == "fanout" else "req/s"
            print(f"round {round_ + 1} {name}: {result['value']} {unit}, p99 {result['p99_ms']} ms, "
                  f"server CPU {result['server_cpu_ms_per_request']} ms/request", flush=True)
    a, b = ([r["value"] for r in runs[n]] for n in trees)
    low, high = bootstrap_ratio(a, b)
    cpu_a, cpu_b = ([r["server_cpu_ms_per_request"] for r in runs[n]] for n in trees)
    cpu_low, cpu_high = bootstrap_ratio(cpu_a, cpu_b)
    summary = {
        "baseline": args.baseline, "only": args.only, "patch": str(args.patch or ""),
        "backend": args.backend, "processes": args.processes,
        "workload": args.workload, "connections": connections, "accounts": args.accounts, "posts": args.posts,
        "median": {n: statistics.median(r["value"] for r in runs[n]) for n in trees},
        "unit": "seconds" if args.workload == "fanout" else "requests/s",
        "median_p99_ms": {n: statistics.median(r["p99_ms"] for r in runs[n]) if args.workload != "fanout" else None
                          for n in trees},
        "ratio_b_over_a": round(statistics.median(b) / statistics.median(a), 4),
        "ratio_95ci": [round(low, 4), round(high, 4)],
        "median_cpu_ms_per_request": {n: statistics.median(r["server_cpu_ms_per_request"] for r in runs[n])
                                      for n in trees},
        "cpu_ratio_b_over_a": round(statistics.median(cpu_b) / statistics.median(cpu_a), 4),
        "cpu_ratio_95ci": [round(cpu_low, 4), round(cpu_high, 4)], "runs": runs,
        "machine": {"cpus": os.cpu_count()}, "date": time.strftime("%Y-%m-%d"),
    }
    out = RESULTS / f"ab-{args.workload}-{args.backend}-c{connections}.json"
    out.write_text(json.dumps(summary, indent=2))
    print(json.dumps({k: v for k, v in summary.items() if k != "runs"}, indent=2))


if __name__ == "__main__":
    main()
