"""The memory a server process spends on six clients that each send a 64 MiB request header.

    .venv/bin/python bench/header_memory.py

Runs it twice on a fresh SQLite store: against `stoa serve` (src/stoa/server.py's limits), and
against the app served the way it was before those limits (plain ``uvicorn.run``, which picks
httptools). Prints the server's resident memory before the attack and at its peak during it.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

CLIENTS = 6
HEADER_BYTES = 64 * 1024 * 1024
PLAIN_UVICORN = ("import uvicorn\nfrom stoa.app import create_app\nfrom stoa.config import load_settings\n"
                 "from stoa.store.migrate import upgrade\ns = load_settings()\nupgrade(s)\n"
                 "uvicorn.run(create_app(s), host=s.host, port=s.port, log_level='warning', proxy_headers=False)\n")


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def attack(port: int) -> None:
    chunk = b"a" * (1024 * 1024)

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: ")
            for _ in range(HEADER_BYTES // len(chunk)):
                writer.write(chunk)
                await writer.drain()
            writer.write(b"\r\n\r\n")
            await writer.drain()
            await asyncio.wait_for(reader.read(65536), 30)
        except (ConnectionError, TimeoutError):
            pass  # refused and closed: what a limited server does
        finally:
            writer.close()

    await asyncio.gather(*(one() for _ in range(CLIENTS)))


def measure(label: str, command: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp, socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        env = {**os.environ, "STOA_DATA_DIR": tmp, "STOA_PORT": str(port), "STOA_RUN_WORKERS": "false"}
        env.pop("STOA_DATABASE_URL", None)
        server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                time.sleep(0.2)
            before = rss_mib(server.pid)
            peak = before

            async def run() -> None:
                nonlocal peak
                task = asyncio.create_task(attack(port))
                while not task.done():
                    peak = max(peak, rss_mib(server.pid))
                    await asyncio.sleep(0.05)
                await task

            started = time.monotonic()
            asyncio.run(run())
            print(f"{label}: RSS {before:.0f} MiB before, {peak:.0f} MiB at peak (+{peak - before:.0f} MiB), "
                  f"attack took {time.monotonic() - started:.1f} s")
        finally:
            server.terminate()
            server.wait(timeout=20)


if __name__ == "__main__":
    measure("stoa serve (limits)", [sys.executable, "-m", "stoa.cli", "serve"])
    measure("plain uvicorn.run (before)", [sys.executable, "-c", PLAIN_UVICORN])
