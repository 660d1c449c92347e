"""Live streams: from event consumers, through a hub, to the clients connected to each server process.

Consumers publish *facts* after they commit ("post 42 is in home timelines", "notification 7 for
account 3", "post 42 was deleted"). A hub carries facts to every server process: in-process when
Stoa runs embedded, PostgreSQL LISTEN/NOTIFY when it runs on PostgreSQL (so `stoa worker`
processes and several `stoa serve` processes reach every connected client). Each process's broker
then routes a fact to its own subscriptions — for a new post, to the connected people whose home
timeline now holds it.

Messages carry ids, not rendered JSON: the API renders each message for the subscriber who
receives it (what they favourited, whether they may see it at all). A slow client never slows the
consumers: its bounded queue drops the oldest message instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import orjson
import structlog

log = structlog.get_logger(__name__)
QUEUE_SIZE = 256
CHANNEL = "stoa_stream"


@dataclass(frozen=True)
class StreamMessage:
    event: str  # "update", "delete", "notification", "status.update"
    object_id: int
    public: bool = True  # a delete or edit of a public or unlisted post: anyone may hear of it


@dataclass(frozen=True)
class Fact:
    """Something a consumer committed that live streams should hear about."""

    kind: str  # "status", "delete", "edit", "notification"
    object_id: int
    recipient: int | None = None  # notifications
    # A new post: a public original, for the public and hashtag streams. A delete or edit: of a public
    # or unlisted post, so anyone may hear of it (otherwise only those who could see the post).
    public: bool = False
    tags: list[str] = field(default_factory=list)

    def encode(self) -> str:
        return orjson.dumps(asdict(self)).decode()

    @classmethod
    def decode(cls, raw: str) -> Fact:
        return cls(**orjson.loads(raw))


class Subscription:
    def __init__(self, broker: Broker, account_id: int | None) -> None:
        self.broker = broker
        self.account_id = account_id
        self.queue: asyncio.Queue[tuple[str, StreamMessage]] = asyncio.Queue(QUEUE_SIZE)
        self.keys: set[str] = set()

    def put(self, key: str, message: StreamMessage) -> None:
        """Queue a message with the stream key it arrived on (clients route by stream name)."""
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait((key, message))

    def close(self) -> None:
        self.broker.unsubscribe_all(self)


# Which connected accounts' home timelines hold a post (asked of the store by the broker).
HomeLookup = Callable[[int, set[int]], Awaitable[set[int]]]


class Broker:
    """This process's subscriptions, by stream key ("user:42", "public", "hashtag:cats")."""

    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = defaultdict(set)

    def open(self, account_id: int | None) -> Subscription:
        return Subscription(self, account_id)

    def subscribe(self, subscription: Subscription, key: str) -> None:
        subscription.keys.add(key)
        self._subscribers[key].add(subscription)

    def unsubscribe(self, subscription: Subscription, key: str) -> None:
        subscription.keys.discard(key)
        subscribers = self._subscribers.get(key)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[key]

    def unsubscribe_all(self, subscription: Subscription) -> None:
        for key in list(subscription.keys):
            self.unsubscribe(subscription, key)

    def connected_users(self) -> set[int]:
        """Accounts with an open user stream in this process."""
        return {int(key[5:]) for key in self._subscribers if key.startswith("user:") and key[5:].isdigit()}

    def publish(self, key: str, message: StreamMessage) -> None:
        for subscription in list(self._subscribers.get(key, ())):
            subscription.put(key, message)

    def broadcast(self, message: StreamMessage) -> None:
        """To every open stream (deletions and edits). A client that multiplexes several streams on one
        connection hears it on each, as each column shows the post; rendering checks who may hear it."""
        for key, subscribers in list(self._subscribers.items()):
            for subscription in list(subscribers):
                if message.public or subscription.account_id is not None:
                    subscription.put(key, message)

    async def route(self, fact: Fact, home_lookup: HomeLookup) -> None:
        if fact.kind == "status":
            connected = self.connected_users()
            if connected:
                for account_id in await home_lookup(fact.object_id, connected):
                    self.publish(f"user:{account_id}", StreamMessage("update", fact.object_id))
            if fact.public:
                message = StreamMessage("update", fact.object_id)
                self.publish("public", message)
                self.publish("public:local", message)
                for tag in fact.tags:
                    self.publish(f"hashtag:{tag}", message)
                    self.publish(f"hashtag:local:{tag}", message)
        elif fact.kind == "notification" and fact.recipient is not None:
            message = StreamMessage("notification", fact.object_id)
            self.publish(f"user:{fact.recipient}", message)
            self.publish(f"user:notification:{fact.recipient}", message)
        elif fact.kind in ("delete", "edit"):
            self.broadcast(StreamMessage("delete" if fact.kind == "delete" else "status.update", fact.object_id,
                                         public=fact.public))


class Hub:
    """Carries facts from consumers to the broker of every server process."""

    async def publish(self, facts: Sequence[Fact]) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


class LocalHub(Hub):
    """Embedded: consumers and clients share one process."""

    def __init__(self, broker: Broker, home_lookup: HomeLookup) -> None:
        self.broker = broker
        self.home_lookup = home_lookup

    async def publish(self, facts: Sequence[Fact]) -> None:
        for fact in facts:
            await self.broker.route(fact, self.home_lookup)


class PostgresHub(Hub):
    """PostgreSQL NOTIFY/LISTEN: every process listening on the channel routes every fact."""

    def __init__(self, dsn: str, broker: Broker | None, home_lookup: HomeLookup | None) -> None:
        self.dsn = dsn
        self.broker = broker
        self.home_lookup = home_lookup
        self._listener: Any = None
        self._sender: Any = None
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        if self.broker is None:
            return  # a worker only publishes
        import asyncpg

        self._listener = await asyncpg.connect(self.dsn)
        await self._listener.add_listener(CHANNEL, self._on_notify)

    def _on_notify(self, _conn: Any, _pid: int, _channel: str, payload: str) -> None:
        assert self.broker is not None and self.home_lookup is not None
        task = asyncio.get_running_loop().create_task(self.broker.route(Fact.decode(payload), self.home_lookup))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def publish(self, facts: Sequence[Fact]) -> None:
        if not facts:
            return
        import asyncpg

        async with self._lock:
            if self._sender is None or self._sender.is_closed():
                self._sender = await asyncpg.connect(self.dsn)
            for fact in facts:
                await self._sender.execute("SELECT pg_notify($1, $2)", CHANNEL, fact.encode())

    async def stop(self) -> None:
        for connection in (self._listener, self._sender):
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()
