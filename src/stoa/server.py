"""How Stoa is served: uvicorn with limits and timeouts on every connection.

uvicorn alone bounds neither the size nor the number of request headers with httptools (its default
when installed), and neither of its protocols times out a connection that sends nothing, or sends
its headers or its body a byte at a time: such connections stay open until file descriptors run
out. So Stoa serves with uvicorn's h11 protocol, whose parser refuses a header block over
``max_incomplete_event_size``, and adds here what uvicorn does not have:

- a cap on the number of headers and on the length of the request line;
- a deadline for the request line and headers, from the connection's first moment (or, on a
  kept-alive connection, from the next request's first byte);
- a request body must keep coming: no silence longer than the body timeout, and after that long
  at least ``min_body_bytes_per_second`` on average (time the server itself was not reading —
  the application busy, or a client waiting for ``100 Continue`` — is not held against the client);
- a client that stops reading its response for that long is dropped;
- a connection cap per process: a connection beyond it is answered 503 at once and closed.

Every refusal is a small JSON error with ``Connection: close``, after which the server stops
writing, reads and discards what the client still sends for a moment, then closes: closing with
unread input would reset the connection and could destroy the answer before the client reads it.
Idle keep-alive connections are closed by uvicorn's own ``timeout_keep_alive``. A WebSocket, once
upgraded, leaves this protocol: it is long-lived by design and kept honest by ping/pong.
"""

from __future__ import annotations

import asyncio
import http
import logging
import resource
import sys
import time
from dataclasses import dataclass
from typing import Any

import h11
import orjson
import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.protocols.http.flow_control import FlowControl
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState
from uvicorn.supervisors import Multiprocess

from stoa.config import Settings

log = logging.getLogger("uvicorn.error")

LINGER_SECONDS = 2.0  # after a refusal: long enough for the client to read it, short enough to free the socket


@dataclass(frozen=True)
class Limits:
    max_header_bytes: int = 64 * 1024
    max_headers: int = 100
    max_request_line_bytes: int = 8 * 1024
    header_timeout_seconds: float = 10.0
    keep_alive_seconds: int = 15
    body_timeout_seconds: float = 15.0
    min_body_bytes_per_second: float = 1024.0
    max_connections: int = 1000
    ws_max_message_bytes: int = 64 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> Limits:
        return cls(max_header_bytes=settings.max_header_bytes, max_headers=settings.max_headers,
                   max_request_line_bytes=settings.max_request_line_bytes,
                   header_timeout_seconds=settings.header_timeout_seconds,
                   keep_alive_seconds=settings.keep_alive_seconds,
                   body_timeout_seconds=settings.body_timeout_seconds,
                   min_body_bytes_per_second=settings.min_body_bytes_per_second,
                   max_connections=settings.max_connections,
                   ws_max_message_bytes=settings.ws_max_message_bytes)


class StoaConfig(uvicorn.Config):
    """uvicorn's configuration plus Stoa's limits; pickled as it is to each of ``--processes N``."""

    def __init__(self, app: Any, limits: Limits, **kwargs: Any) -> None:
        super().__init__(app, http=LimitedH11Protocol, h11_max_incomplete_event_size=limits.max_header_bytes,
                         timeout_keep_alive=limits.keep_alive_seconds, ws_max_size=limits.ws_max_message_bytes,
                         **kwargs)
        self.limits = limits


class _LimitedConnection(h11.Connection):
    """h11's server connection, also refusing too many headers and overlong request lines."""

    def __init__(self, limits: Limits) -> None:
        super().__init__(h11.SERVER, max_incomplete_event_size=limits.max_header_bytes)
        self.limits = limits
        self.refusal: tuple[int, str] | None = None

    def next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        try:
            event = super().next_event()
        except h11.RemoteProtocolError as exc:
            if exc.error_status_hint == 431:  # the header block outgrew max_incomplete_event_size
                self.refusal = (431, f"The request headers are too large (at most {self.limits.max_header_bytes} "
                                     "bytes)")
            raise
        if isinstance(event, h11.Request):
            line = len(event.method) + len(event.target) + len(b"  HTTP/1.1")
            if line > self.limits.max_request_line_bytes:
                self.refusal = (414, f"The request line is too long (at most {self.limits.max_request_line_bytes} "
                                     "bytes)")
            elif len(event.headers) > self.limits.max_headers:
                self.refusal = (431, f"The request has too many headers (at most {self.limits.max_headers})")
            if self.refusal is not None:
                raise h11.RemoteProtocolError(self.refusal[1], error_status_hint=self.refusal[0])
        return event


class _TimedFlowControl(FlowControl):
    """uvicorn's flow control, remembering how long reading was paused: that time is the server's."""

    def __init__(self, transport: asyncio.Transport) -> None:
        super().__init__(transport)
        self._paused_at: float | None = None
        self._paused_total = 0.0

    def pause_reading(self) -> None:
        if not self.read_paused:
            self._paused_at = time.monotonic()
        super().pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused and self._paused_at is not None:
            self._paused_total += time.monotonic() - self._paused_at
            self._paused_at = None
        super().resume_reading()

    def paused_seconds(self) -> float:
        ongoing = time.monotonic() - self._paused_at if self._paused_at is not None else 0.0
        return self._paused_total + ongoing


class LimitedH11Protocol(H11Protocol):
    """One HTTP/1.1 connection, with Stoa's limits and timeouts (see the module's docstring)."""

    def __init__(self, config: uvicorn.Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = config.limits if isinstance(config, StoaConfig) else Limits()
        self.limited = _LimitedConnection(self.limits)
        self.conn = self.limited
        self.timed_flow: _TimedFlowControl | None = None
        self._header_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._write_timer: asyncio.TimerHandle | None = None
        self._request_started = False  # a byte of the request awaited by the header timer has arrived
        self._body_start = self._last_byte = 0.0  # on the client's clock (see _client_time)
        self._body_bytes = 0
        self._refusing = False
        self._upgraded = False

    # The connection's life.

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.timed_flow = self.flow = _TimedFlowControl(transport)
        if len(self.connections) > self.limits.max_connections:
            log.warning("Refused a connection: %d open, the cap is %d", len(self.connections) - 1,
                        self.limits.max_connections)
            self._refuse(503, "The server has too many open connections; try again shortly",
                         retry_after=1)
            return
        self._start_header_timer(request_started=False)

    def data_received(self, data: bytes) -> None:
        if self._refusing:
            return  # read only to be discarded, until the lingering close
        if self.conn.their_state is h11.IDLE:
            if self._header_timer is None:  # the first byte of a next request on a kept-alive connection
                self._start_header_timer(request_started=True)
            self._request_started = True
        elif self.conn.their_state is h11.SEND_BODY:
            self._body_bytes += len(data)
            self._last_byte = self._client_time()
        super().data_received(data)
        if self._refusing or self._upgraded:
            return
        if self.conn.their_state is not h11.IDLE:
            self._cancel("_header_timer")
        elif self._header_timer is None and self.timeout_keep_alive_task is None:
            # Waiting for a next request with no timer armed (uvicorn cancels its own on any byte):
            # never leave a connection without a deadline.
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive,
                                                                self.timeout_keep_alive_handler)
        if self.conn.their_state is h11.SEND_BODY:
            if self._body_timer is None:
                self._body_start = self._last_byte = self._client_time()
                self._body_bytes = 0
                self._body_timer = self.loop.call_later(self.limits.body_timeout_seconds, self._check_body)
        else:
            self._cancel("_body_timer")

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self._refusing and not self.transport.is_closing() and self.conn.their_state is h11.SEND_BODY:
            # Answered before the body was read (413, 401...): the rest of the body is not wanted, and the
            # connection cannot serve another request until it is all read, so stop instead of draining it.
            self._linger()

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._upgraded = True  # from here on the WebSocket protocol owns the transport and its timeouts
        self._cancel_timers()
        super().handle_websocket_upgrade(event)

    def send_400_response(self, msg: str) -> None:
        status, message = self.limited.refusal or (400, "Invalid HTTP request")
        log.warning("Refused a request with %d: %s", status, message)
        self._refuse(status, message)

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_timer is None and not self._upgraded:
            self._write_timer = self.loop.call_later(self.limits.body_timeout_seconds, self._write_stalled)

    def resume_writing(self) -> None:
        super().resume_writing()
        self._cancel("_write_timer")

    def shutdown(self) -> None:
        if self._refusing:
            self.transport.close()
            return
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timers()
        super().connection_lost(exc)

    # Deadlines.

    def _start_header_timer(self, request_started: bool) -> None:
        self._request_started = request_started
        self._header_timer = self.loop.call_later(self.limits.header_timeout_seconds, self._headers_late)

    def _headers_late(self) -> None:
        self._header_timer = None
        if self._refusing or self.conn.their_state is not h11.IDLE:
            return
        if not self._request_started:  # a connection that never said anything: nothing to answer
            self._refusing = True
            self.transport.close()
            return
        self._refuse(408, f"The request headers took too long (more than {self.limits.header_timeout_seconds:g} s)")

    def _client_time(self) -> float:
        """Seconds on a clock that stops while the server is not reading the body."""
        paused = self.timed_flow.paused_seconds() if self.timed_flow is not None else 0.0
        return time.monotonic() - paused

    def _check_body(self) -> None:
        self._body_timer = None
        if self._refusing or self.conn.their_state is not h11.SEND_BODY:
            return
        now = self._client_time()
        timeout, rate = self.limits.body_timeout_seconds, self.limits.min_body_bytes_per_second
        if self.cycle is not None and self.cycle.waiting_for_100_continue:
            self._body_start = self._last_byte = now  # the client rightly waits for the application
            self._body_bytes = 0
        due = self._last_byte + timeout
        if rate > 0:
            due = min(due, self._body_start + timeout + self._body_bytes / rate)
        if now < due:
            self._body_timer = self.loop.call_later(due - now, self._check_body)
            return
        self._refuse(408, f"The request body arrived too slowly (silent for {timeout:g} s, or under "
                          f"{rate:g} bytes a second)")

    def _write_stalled(self) -> None:
        self._write_timer = None
        log.warning("Dropped a client that stopped reading its response")
        self._refusing = True
        self._cancel_timers()
        self.transport.abort()  # a close would wait for a buffer that never drains

    # Refusing.

    def _refuse(self, status: int, message: str, retry_after: int | None = None) -> None:
        """Answer ``status`` with Mastodon's error JSON, then linger and close."""
        self._refusing = True
        self._cancel_timers()
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete:
            cycle.keep_alive = False
            cycle.disconnected = True  # the application reads a disconnect, and what it sends is dropped
            cycle.message_event.set()
            if cycle.response_started:  # half an answer is out: nothing clean can follow it
                self.transport.close()
                return
        body = orjson.dumps({"error": message})
        head = [f"HTTP/1.1 {status} {http.HTTPStatus(status).phrase}", "content-type: application/json",
                f"content-length: {len(body)}", "connection: close"]
        if retry_after is not None:
            head.append(f"retry-after: {retry_after}")
        self.transport.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        self._linger()

    def _linger(self) -> None:
        """Stop writing, discard what the client still sends, close soon: the answer reaches the client."""
        self._refusing = True
        self._cancel_timers()
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.transport.resume_reading()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _cancel(self, name: str) -> None:
        timer: asyncio.TimerHandle | None = getattr(self, name)
        if timer is not None:
            timer.cancel()
            setattr(self, name, None)

    def _cancel_timers(self) -> None:
        for name in ("_header_timer", "_body_timer", "_write_timer"):
            self._cancel(name)


def _raise_open_file_limit(limits: Limits) -> None:
    """Each connection is a file descriptor: make sure the cap, not the OS's soft limit, is what refuses."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = limits.max_connections + 512  # the store's connections, media files, the listening socket
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        if target < wanted:
            log.warning("Open files are limited to %d: fewer than STOA_MAX_CONNECTIONS needs", target)


def serve(app: Any, settings: Settings, *, processes: int = 1, factory: bool = False) -> None:
    """Serve ``app`` (an ASGI app, or with ``processes`` > 1 an import string) with Stoa's limits.

    What ``uvicorn.run`` does, with a configuration that carries the limits to every process.
    """
    limits = Limits.from_settings(settings)
    _raise_open_file_limit(limits)
    config = StoaConfig(app, limits, host=settings.host, port=settings.port, log_level="warning",
                        proxy_headers=False, factory=factory, workers=processes)
    server = uvicorn.Server(config)
    if processes > 1:
        Multiprocess(config, sockets=[config.bind_socket()]).run()
        return
    server.run()
    if not server.started:
        sys.exit(STARTUP_FAILURE)
