"""Transparency-log benchmark: append rate, proof generation at 1,000,000 entries, full verification.

    python bench/transparency.py --backend sqlite        # or --backend postgresql
    python bench/transparency.py --backend postgresql --entries 1000000

Appends N entries (batches of 10,000, each batch one transaction with one signed tree head) into a
fresh store, then times 1,000 inclusion proofs and 1,000 consistency proofs served from the store
(including the one query that fetches their nodes), then an auditor's full verification over HTTP
against `stoa serve`: fetch every entry, re-hash it, rebuild the tree and compare with the signed
root. Writes bench/results/transparency-<backend>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import asyncpg
import httpx

from stoa.config import Settings
from stoa.residency import audit, merkle
from stoa.residency.transparency import Record, RegionKey, TransparencyLog
from stoa.store.database import Database
from stoa.store.migrate import upgrade

HERE = Path(__file__).parent
RESULTS = HERE / "results"
PG_ADMIN = os.environ.get("STOA_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def fresh_pg(name: str) -> str:
    conn = await asyncpg.connect(PG_ADMIN)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"


async def append_and_prove(settings: Settings, entries: int, batch: int) -> dict[str, Any]:
    db = Database(settings.resolved_database_url)
    log = TransparencyLog(db, "local", RegionKey.for_region(settings.data_dir, "local"))
    rng = random.Random(5)
    try:
        started = time.perf_counter()
        for done in range(0, entries, batch):
            await log.append([Record("operator:bench", "user.read", f"support ticket {done + i}",
                                     rng.randrange(1, 100_000), {"fields": ["email"]})
                              for i in range(min(batch, entries - done))])
            if (done // batch) % 10 == 0:
                print(f"  appended {done + batch}/{entries} ({time.perf_counter() - started:.0f}s)", flush=True)
        append_seconds = time.perf_counter() - started
        head = await log.head()
        inclusion, consistency = [], []
        for _ in range(1000):
            position = rng.randrange(entries)
            t = time.perf_counter()
            leaf, path = await log.inclusion_proof(position, entries)
            inclusion.append(time.perf_counter() - t)
            merkle.verify_inclusion(leaf, position, entries, path, head.root_hash)
        for _ in range(1000):
            first = rng.randrange(1, entries)
            t = time.perf_counter()
            await log.consistency_proof(first, entries)
            consistency.append(time.perf_counter() - t)
        memory = merkle.MemoryNodes()
        for i in range(entries):
            memory.append_leaf(merkle.leaf_hash(i.to_bytes(8, "big")))
        pure = []
        for _ in range(1000):
            position = rng.randrange(entries)
            t = time.perf_counter()
            merkle.inclusion_proof(memory, position, entries)
            pure.append(time.perf_counter() - t)
    finally:
        await db.dispose()

    def summary(samples: list[float]) -> dict[str, float]:
        ordered = sorted(samples)
        return {"mean_ms": round(statistics.mean(samples) * 1000, 3),
                "p50_ms": round(ordered[len(ordered) // 2] * 1000, 3),
                "p99_ms": round(ordered[int(len(ordered) * 0.99)] * 1000, 3)}

    return {"entries": entries, "batch": batch, "append_seconds": round(append_seconds, 1),
            "append_entries_per_second": round(entries / append_seconds),
            "inclusion_proof_from_store": summary(inclusion), "consistency_proof_from_store": summary(consistency),
            "inclusion_proof_in_memory": summary(pure)}


def verify_over_http(settings: Settings, entries: int) -> dict[str, Any]:
    port = 8000 + random.randrange(1000, 2000)
    env = {**os.environ, "STOA_DATA_DIR": str(settings.data_dir), "STOA_DATABASE_URL": settings.database_url,
           "STOA_PORT": str(port), "STOA_RATE_LIMIT_ENABLED": "false", "STOA_LOG_LEVEL": "warning"}
    server = subprocess.Popen([sys.executable, "-m", "stoa.cli", "serve"], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        key = RegionKey.for_region(settings.data_dir, "local").public_bytes
        started = time.perf_counter()
        result = audit.verify(url, "local", key, None, check_entries=True)
        seconds = time.perf_counter() - started
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert result.entries_checked == entries
    return {"full_verification_over_http_seconds": round(seconds, 1),
            "entries_verified_per_second": round(entries / seconds)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], required=True)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    args = parser.parse_args()
    data_dir = RESULTS / f"transparency-{args.backend}"
    if data_dir.exists():
        shutil.rmtree(data_dir)
    url = asyncio.run(fresh_pg("stoa_bench_transparency")) if args.backend == "postgresql" else ""
    settings = Settings(data_dir=data_dir, database_url=url)
    upgrade(settings)
    print(f"[{args.backend}] appending {args.entries} entries")
    result = asyncio.run(append_and_prove(settings, args.entries, args.batch))
    print(json.dumps(result, indent=2))
    result.update(verify_over_http(settings, args.entries))
    result.update({"backend": args.backend, "date": time.strftime("%Y-%m-%d"),
                   "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                   "public_key": base64.b64encode(RegionKey.for_region(data_dir, "local").public_bytes).decode()})
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"transparency-{args.backend}.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
