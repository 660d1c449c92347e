"""`stoa audit verify`, the auditor's tool, against a live server — and against a tampered store."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text

from tests.e2e.conftest import LiveServer


def stoa(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "stoa.cli", *args], env=server.env, capture_output=True,
                          text=True, timeout=120)


def test_an_auditor_verifies_the_log_and_catches_tampering(live_server: LiveServer, tmp_path: Path) -> None:
    for name in ("ada", "bea"):
        done = stoa(live_server, "user", "create", name, "--email", f"{name}@example.org", "--password",
                    "long password 1", "--reason", f"onboarding {name}")
        assert done.returncode == 0, done.stdout + done.stderr
    key = stoa(live_server, "audit", "key").stdout.strip()
    head_file = tmp_path / "head.json"
    verify = ["audit", "verify", "--url", live_server.url, "--public-key", key, "--head-file", str(head_file)]

    first = stoa(live_server, *verify, "--entries")  # the ranking configuration logged at start, then two users
    assert first.returncode == 0 and "OK" in first.stdout and "3 entries" in first.stdout, first.stdout
    entries = httpx.get(f"{live_server.url}/api/v1/stoa/transparency/local/entries",
                        params={"start": 0, "end": 3}).json()
    assert [e["entry"]["action"] for e in entries] == ["ranking.config", "user.create", "user.create"], entries
    assert head_file.exists()

    stoa(live_server, "user", "suspend", "ada", "--reason", "spam wave")
    second = stoa(live_server, *verify)
    assert second.returncode == 0 and "consistent with the saved head of 3" in second.stdout, second.stdout

    wrong_key = stoa(live_server, "audit", "verify", "--url", live_server.url, "--public-key",
                     "A" * 43 + "=")
    assert wrong_key.returncode == 1 and "FAILED" in wrong_key.stdout

    # Someone with database access rewrites history.
    url = live_server.env["STOA_DATABASE_URL"].replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    if url.startswith("sqlite"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("UPDATE transparency_entries SET leaf_input = :b WHERE position = 0"),
                         {"b": b'{"reason":"nothing happened"}'})
        engine.dispose()
    else:
        import asyncio

        import asyncpg

        async def tamper() -> None:
            conn = await asyncpg.connect(live_server.env["STOA_DATABASE_URL"].replace("+asyncpg", ""))
            await conn.execute("UPDATE transparency_entries SET leaf_input = $1 WHERE position = 0",
                               b'{"reason":"nothing happened"}')
            await conn.close()

        asyncio.run(tamper())
    caught = stoa(live_server, *verify, "--entries")
    assert caught.returncode == 1 and "FAILED" in caught.stdout and "altered" in caught.stdout, caught.stdout
