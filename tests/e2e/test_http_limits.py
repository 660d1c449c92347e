"""What a live `stoa serve` refuses at the HTTP layer, driven with raw sockets.

Oversize or too many headers, an overlong request line, connections that send nothing or send
their headers or body a byte at a time, bodies over the limit, and connections beyond the cap.
The server runs with one-second timeouts so that each case takes about a second. These limits
live in the HTTP server, in front of the store, so one store (SQLite) serves for all of them;
the multi-process path is checked on PostgreSQL, which it needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.e2e.conftest import LiveServer, serving

CAP = 8  # connections per server process, in this test's server
BODY_LIMIT = 64 * 1024
GIVE_UP = 15.0  # no case should come near this; it only stops a test that would otherwise hang


LIMITS = {"STOA_HEADER_TIMEOUT_SECONDS": "1", "STOA_KEEP_ALIVE_SECONDS": "1", "STOA_BODY_TIMEOUT_SECONDS": "1",
          "STOA_MAX_CONNECTIONS": str(CAP), "STOA_MAX_REQUEST_BYTES": str(BODY_LIMIT), "STOA_RUN_WORKERS": "false"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with serving("sqlite", tmp_path_factory.mktemp("limits"), **LIMITS) as live:
        yield live


def port_of(server: LiveServer) -> int:
    return int(server.url.rsplit(":", 1)[1])


async def connect(server: LiveServer) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port_of(server))


async def read_until_closed(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (a reset counts as closed)."""
    received = b""
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(65536):
            received += chunk
    return received


async def exchange(server: LiveServer, request: bytes) -> bytes:
    """Send ``request`` whole, then read until the server closes; fails if it never does."""
    reader, writer = await connect(server)
    try:
        with contextlib.suppress(ConnectionError):
            writer.write(request)
            await writer.drain()
        return await asyncio.wait_for(read_until_closed(reader), GIVE_UP)
    finally:
        writer.close()


def status_of(response: bytes) -> int:
    assert response.startswith(b"HTTP/1.1 "), response[:200]
    return int(response.split(b" ", 2)[1])


async def test_oversize_headers_are_refused_and_the_connection_closed(server: LiveServer) -> None:
    huge = b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: " + b"a" * (1024 * 1024) + b"\r\n\r\n"
    response = await exchange(server, huge)
    assert status_of(response) == 431 and b"too large" in response, response[:300]


async def test_too_many_headers_are_refused(server: LiveServer) -> None:
    def request(headers: int) -> bytes:  # Host plus the rest, each one tiny
        lines = b"".join(b"X-H%d: v\r\n" % i for i in range(headers - 1))
        return b"GET /health HTTP/1.1\r\nHost: t\r\n" + lines + b"Connection: close\r\n\r\n"

    assert status_of(await exchange(server, request(99))) == 200  # 99 + Connection: close = 100, the limit
    refused = await exchange(server, request(100))
    assert status_of(refused) == 431 and b"headers" in refused, refused[:300]
    assert status_of(await exchange(server, request(20_000))) == 431


async def test_an_overlong_request_line_is_refused(server: LiveServer) -> None:
    response = await exchange(server, b"GET /health?q=" + b"a" * 9000 + b" HTTP/1.1\r\nHost: t\r\n\r\n")
    assert status_of(response) == 414, response[:300]


async def test_a_connection_that_sends_nothing_is_closed(server: LiveServer) -> None:
    reader, writer = await connect(server)
    try:
        assert await asyncio.wait_for(read_until_closed(reader), GIVE_UP) == b""  # closed, silently
    finally:
        writer.close()


async def test_a_kept_alive_connection_that_starts_a_request_and_stalls_is_closed(server: LiveServer) -> None:
    reader, writer = await connect(server)
    try:
        writer.write(b"GET /health HTTP/1.1\r\nHost: t\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\nOK"), GIVE_UP)
        assert status_of(head) == 200
        writer.write(b"G")  # the first byte of a next request, then nothing
        assert status_of(await asyncio.wait_for(read_until_closed(reader), GIVE_UP)) == 408
    finally:
        writer.close()


async def drip(server: LiveServer, start: bytes, byte: bytes) -> bytes:
    """Send ``start``, then one byte every 0.1 s for as long as the server listens; return its answer."""
    reader, writer = await connect(server)
    answer = asyncio.create_task(read_until_closed(reader))
    deadline = time.monotonic() + GIVE_UP
    try:
        writer.write(start)
        while not answer.done():
            assert time.monotonic() < deadline, "the server kept listening to a client a byte at a time"
            with contextlib.suppress(ConnectionError):
                writer.write(byte)
                await writer.drain()
            await asyncio.wait([answer], timeout=0.1)
        return answer.result()
    finally:
        answer.cancel()
        writer.close()


async def test_slow_headers_are_cut_off(server: LiveServer) -> None:
    answer = await drip(server, b"GET /health HTTP/1.1\r\nHost: t\r\nX-Slow: ", b"a")
    assert status_of(answer) == 408, answer[:300]


async def test_a_slow_body_is_cut_off(server: LiveServer) -> None:
    start = (b"POST /api/v1/apps HTTP/1.1\r\nHost: t\r\nContent-Type: application/x-www-form-urlencoded\r\n"
             b"Content-Length: 60000\r\n\r\nclient_name=")
    answer = await drip(server, start, b"a")
    assert status_of(answer) == 408, answer[:300]


async def test_bodies_over_the_limit_are_refused_before_they_are_read(server: LiveServer) -> None:
    declared = await exchange(server, b"POST /api/v1/apps HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                                      b"Content-Length: %d\r\n\r\n" % (BODY_LIMIT * 100))  # and no body at all
    assert status_of(declared) == 413, declared[:300]
    chunk = b"a" * 16384
    chunked = (b"POST /api/v1/apps HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n" + (b"%x\r\n%s\r\n" % (len(chunk), chunk)) * 8 + b"0\r\n\r\n")
    refused = await exchange(server, chunked)  # 128 KiB streamed: refused and closed, not read to the end
    assert status_of(refused) == 413, refused[:300]


async def test_connections_beyond_the_cap_are_refused_then_served_again(server: LiveServer) -> None:
    streams: list[asyncio.StreamWriter] = []
    refusal = b""
    try:
        for _ in range(CAP + 1):  # long-lived event streams hold connections open, as real clients do
            reader, writer = await connect(server)
            streams.append(writer)
            writer.write(b"GET /api/v1/streaming/public HTTP/1.1\r\nHost: t\r\n\r\n")
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), GIVE_UP)
            if status_of(head) == 503:
                refusal = head + await asyncio.wait_for(read_until_closed(reader), GIVE_UP)
                break
        assert refusal, f"{CAP + 1} connections were all served; the cap is {CAP}"
        assert len(streams) >= CAP - 1  # the earlier tests' connections may still be closing
        assert b"retry-after" in refusal.lower() and b"connections" in refusal, refusal
    finally:
        for writer in streams:
            writer.close()
    deadline = time.monotonic() + GIVE_UP
    async with httpx.AsyncClient(timeout=5) as client:
        while (await client.get(f"{server.url}/health")).status_code != 200:
            assert time.monotonic() < deadline, "the server did not serve again once the connections went away"
            await asyncio.sleep(0.1)


async def test_websocket_streams_outlive_the_http_timeouts(server: LiveServer) -> None:
    url = server.url.replace("http://", "ws://") + "/api/v1/streaming?stream=public"
    async with websockets.connect(url, open_timeout=GIVE_UP) as ws:
        await asyncio.sleep(2.5)  # past the header, keep-alive and body timeouts of this server
        await ws.send('{"type": "subscribe", "stream": "no-such-stream"}')
        reply = await asyncio.wait_for(ws.recv(), GIVE_UP)
        assert "Unknown stream type" in str(reply)
    async with websockets.connect(url, open_timeout=GIVE_UP, max_size=None) as ws:
        await ws.send("x" * (64 * 1024 + 1))  # one byte over STOA_WS_MAX_MESSAGE_BYTES
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), GIVE_UP)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009  # message too big


def test_every_server_process_applies_the_limits(tmp_path: Path) -> None:
    """`--processes N` starts its processes from a factory: they serve with the same limits."""
    with serving("postgresql", tmp_path, "--processes", "2", **LIMITS) as live:
        for _ in range(4):  # new connections, so both processes are likely to answer some
            answer = asyncio.run(exchange(live, b"GET /health HTTP/1.1\r\nHost: t\r\nX-Big: "
                                          + b"a" * (256 * 1024) + b"\r\n\r\n"))
            assert status_of(answer) == 431, answer[:300]
            lines = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
            answer = asyncio.run(exchange(live, b"GET /health HTTP/1.1\r\nHost: t\r\n" + lines + b"\r\n"))
            assert status_of(answer) == 431, answer[:300]
