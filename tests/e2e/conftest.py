"""Live server processes: `stoa serve` started exactly as a user starts it, on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.databases import BACKENDS, database_url, dispose_url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self, kill: bool = False) -> None:
        if self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            self.process.wait(timeout=20)

    def start_again(self) -> None:
        self.process = start_process(self.env, self.log)
        wait_ready(self.url, self.process, self.log)


def start_process(env: dict[str, str], log: Path, *args: str) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen([sys.executable, "-m", "stoa.cli", *(args or ("serve",))], env=env, stdout=handle,
                            stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"stoa serve exited with {process.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"stoa serve did not become ready:\n{log.read_text()[-4000:]}")


def server_env(tmp_path: Path, port: int, **settings: str) -> dict[str, str]:
    """The environment of a test server: fast polling and heartbeats, short media leases, plus ``settings``."""
    env = {**os.environ, "STOA_DATA_DIR": str(tmp_path / "data"), "STOA_PORT": str(port), "STOA_HOST": "127.0.0.1",
           "STOA_WORKER_POLL_SECONDS": "0.2", "STOA_STREAM_HEARTBEAT_SECONDS": "0.5",
           "STOA_MEDIA_JOB_LEASE_SECONDS": "2"}
    env.pop("STOA_DATABASE_URL", None)
    return env | settings


@contextmanager
def serving(backend: str, tmp_path: Path, *serve_args: str, ready_timeout: float = 60,
            **settings: str) -> Iterator[LiveServer]:
    """`stoa serve [serve_args]` on a fresh store of ``backend``, with ``settings`` in its environment, until
    the block ends."""
    url_db = database_url(backend, tmp_path)
    port = free_port()
    env = server_env(tmp_path, port, STOA_DATABASE_URL=url_db, **settings)
    log = tmp_path / "server.log"
    process = start_process(env, log, "serve", *serve_args)
    server = LiveServer(f"http://127.0.0.1:{port}", env, process, log)
    try:
        wait_ready(server.url, server.process, log, ready_timeout)
        yield server
    finally:
        server.stop()
        dispose_url(backend, url_db)


@pytest.fixture(params=BACKENDS)
def live_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    with serving(str(request.param), tmp_path) as server:
        yield server


@pytest.fixture
def split_server(tmp_path: Path) -> Iterator[LiveServer]:
    """PostgreSQL deployment shape: `stoa serve --no-workers` plus a separate `stoa worker` process."""
    url_db = database_url("postgresql", tmp_path)
    port = free_port()
    env = server_env(tmp_path, port, STOA_DATABASE_URL=url_db)
    log = tmp_path / "server.log"
    server = LiveServer(f"http://127.0.0.1:{port}", env, start_process(env, log, "serve", "--no-workers"), log)
    worker = None
    try:
        wait_ready(server.url, server.process, log)
        worker = start_process(env, tmp_path / "worker.log", "worker")
        yield server
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=20)
        server.stop()
        dispose_url("postgresql", url_db)


@pytest.fixture(params=BACKENDS)
def two_region_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveServer]:
    """`stoa serve` with regions us and eu: two SQLite files, or two PostgreSQL databases."""
    from tests.databases import create_postgres_database, drop_postgres_database

    backend = str(request.param)
    port = free_port()
    env = server_env(tmp_path, port, STOA_REGIONS="us,eu", STOA_REGION="us")
    urls: list[str] = []
    if backend == "postgresql":
        urls = [create_postgres_database(), create_postgres_database()]
        env["STOA_REGION_DATABASE_URLS"] = f"us={urls[0]};eu={urls[1]}"
    log = tmp_path / "server.log"
    server = LiveServer(f"http://127.0.0.1:{port}", env, start_process(env, log), log)
    try:
        wait_ready(server.url, server.process, log)
        yield server
    finally:
        server.stop()
        for url in urls:
            drop_postgres_database(url)
