"""Live streams: an in-process broker from event consumers to connected clients.

Messages carry ids, not rendered JSON: the API renders each message for the
subscriber who receives it (what they favourited, whether they may see it).
A slow client never slows the consumers: its bounded queue drops the oldest
message instead.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass

QUEUE_SIZE = 256


@dataclass(frozen=True)
class StreamMessage:
    stream: str  # e.g. "user", "public", "public:local", "hashtag", "user:notification"
    event: str  # "update", "delete", "notification", "status.update"
    object_id: int
    tag: str | None = None


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


class Broker:
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
        """Accounts with an open user stream (fan-out only pushes to these)."""
        out = set()
        for key in self._subscribers:
            if key.startswith("user:") and key.split(":")[-1].isdigit():
                out.add(int(key.split(":")[-1]))
        return out

    def publish(self, key: str, message: StreamMessage) -> None:
        for subscription in list(self._subscribers.get(key, ())):
            subscription.put(key, message)

    def broadcast(self, message: StreamMessage) -> None:
        """To every open stream once (deletions and edits; rendering checks who may see them)."""
        seen: set[int] = set()
        for key, subscribers in list(self._subscribers.items()):
            for subscription in list(subscribers):
                if id(subscription) not in seen:
                    seen.add(id(subscription))
                    subscription.put(key, message)

    def has(self, key: str) -> bool:
        return key in self._subscribers
