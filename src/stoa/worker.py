"""Background work: what runs beside the HTTP server for every region, and how it is started.

For each region: the outbox consumers (fan-out, notifications, search, counters, For You's tables),
a job runner per job kind (media transcoding, housekeeping, retraining, the outbox's pruning) and the scheduler of the
periodic jobs; across regions, the replicators. Embedded, `stoa serve` runs all of it as asyncio
tasks in the server process (:func:`start`); at scale, `stoa worker` processes on any number of
machines run it without HTTP (:func:`run`), sharing the work through the database.

A new kind of background work is added here: its domain package offers a ``register(registry, ...)``
for its job kinds (and a ``schedule(...)`` if it is periodic), and this module wires it in.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from stoa.config import Settings
from stoa.feeds import pruning, ranking_training, similar, trending
from stoa.media import jobs as media_jobs
from stoa.media.storage import storage_for
from stoa.social import maintenance
from stoa.social.consumers import all_consumers
from stoa.social.streaming import Broker, Hub, LocalHub, PostgresHub
from stoa.social.timelines import home_holders
from stoa.store import pruning as outbox_pruning
from stoa.store.database import Database
from stoa.store.events import Consumer, run_consumers
from stoa.store.jobs import JobRunner, Periodic, Registry, Scheduler
from stoa.store.regions import Store
from stoa.store.replication import replicators_for


def make_hub(settings: Settings, store: Store, broker: Broker | None) -> Hub:
    """Embedded: an in-process hub. On PostgreSQL: NOTIFY/LISTEN, so separate workers reach every client."""
    holders = partial(home_holders_anywhere, store)
    if settings.is_sqlite:
        return LocalHub(broker or Broker(), holders)
    dsn = settings.resolved_database_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return PostgresHub(dsn, broker, holders if broker is not None else None)


async def home_holders_anywhere(store: Store, status_id: int, account_ids: set[int]) -> set[int]:
    """Home timelines live in their owners' regions: ask each region's store."""
    found: set[int] = set()
    for name in store.region_names:
        found |= await home_holders(store.region(name), status_id, account_ids)
    return found


def job_registry(settings: Settings, db: Database, region: str, *, readers: Sequence[str],
                 replicas: Sequence[Database]) -> Registry:
    """Every job kind one region's workers run, bound to that region's store. ``readers``: the names of
    the region's consumers; ``replicas``: the other regions' stores, whose replicators read this outbox."""
    registry = Registry()
    outbox_pruning.register(registry, db, region, readers=readers, replicas=replicas,
                            keep=timedelta(hours=settings.outbox_retention_hours))
    storage = storage_for(settings, region)
    media_jobs.register(registry, db, storage, settings)
    maintenance.register(registry, db, storage, depth=settings.home_feed_depth,
                         unattached_media_hours=settings.unattached_media_hours)
    pruning.register(registry, db)
    ranking_training.register(registry, db, region, settings.data_dir)
    return registry


def schedules(settings: Settings) -> list[Periodic]:
    """The periodic jobs, the same in every region."""
    found = [maintenance.schedule(), pruning.schedule(), outbox_pruning.schedule()]
    if settings.recsys_retrain_hours > 0:
        found.append(ranking_training.schedule(settings.recsys_retrain_hours))
    return found


def consumers(db: Database, hub: Hub, region: str) -> list[Consumer]:
    """Every outbox consumer of a region, in the order they run: social's (timelines, notifications,
    search, counts), then For You's tables (trending, vectors), which read the counts."""
    return [*all_consumers(db, hub, region), trending.TrendingKeeper(db, region).consumer(),
            similar.VectorKeeper(db).consumer()]


def background_work(settings: Settings, store: Store, hub: Hub) -> list[Coroutine[Any, Any, None]]:
    """What a worker runs, for every region: consumers, job runners, the scheduler; and the replicators."""
    work: list[Coroutine[Any, Any, None]] = []
    for name in store.region_names:
        db = store.region(name)
        region_consumers = consumers(db, hub, name)
        registry = job_registry(settings, db, name, readers=[c.name for c in region_consumers],
                                replicas=[store.region(other) for other in store.region_names if other != name])
        work.append(run_consumers(db, region_consumers, settings.worker_poll_seconds))
        # One runner per kind: a long retraining never holds up the sweep, nor a transcode a delivery.
        work += [JobRunner(db, registry, [kind.name], concurrency=kind.concurrency).run_forever()
                 for kind in registry.kinds]
        work.append(Scheduler(db, schedules(settings)).run_forever())
    regions = {name: store.region(name) for name in store.region_names}
    work += [r.run_forever(settings.worker_poll_seconds) for r in replicators_for(regions)]  # none with one region
    return work


def start(settings: Settings, store: Store, hub: Hub) -> list[asyncio.Task[Any]]:
    """Embedded (`stoa serve`): the background work as tasks of the server's event loop."""
    tasks = [asyncio.create_task(work) for work in background_work(settings, store, hub)]
    # The text encoder the vector consumer uses takes ~1 s to load: not on the first post.
    tasks.append(asyncio.create_task(asyncio.to_thread(similar.warm_encoder)))
    return tasks


async def stop(tasks: list[asyncio.Task[Any]]) -> None:
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def run(settings: Settings, store: Store) -> None:
    """`stoa worker`: the background work alone, until cancelled."""
    hub = make_hub(settings, store, broker=None)  # on PostgreSQL, live streams hear this worker
    await hub.start()
    try:
        await asyncio.gather(*background_work(settings, store, hub))
    finally:
        await hub.stop()
