"""For You's own tables stay bounded: posts that aged out of the trending window leave ``trending_posts``,
and out of the affinity window, ``status_vectors``.

A periodic job (stoa.store.jobs) of each region, beside the social housekeeping sweep
(stoa.social.maintenance): the feeds own these tables, so the feeds keep them.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from stoa.feeds import similar, trending
from stoa.store.database import Database
from stoa.store.jobs import Job, JobKind, Periodic, Registry

log = structlog.get_logger(__name__)
PRUNE = "feeds.prune"  # the job kind, run once per PRUNE_SECONDS in each region
PRUNE_SECONDS = 5.0
VECTORS_KEPT = timedelta(days=60)  # For You's affinity window: a like older than that seeds nothing


def register(registry: Registry, db: Database) -> None:
    """The pruning as a job kind of one region. A failed run is not kept: the next period prunes again."""

    async def prune(_job: Job) -> None:
        await prune_once(db)

    registry.register(JobKind(PRUNE, prune, max_attempts=1, keep_dead=False, lease_seconds=120.0))


def schedule(interval_seconds: float = PRUNE_SECONDS) -> Periodic:
    return Periodic(PRUNE, PRUNE, timedelta(seconds=interval_seconds))


async def prune_once(db: Database) -> None:
    aged = await trending.prune(db)
    if aged:
        log.debug("trending_pruned", rows=aged)
    aged = await similar.prune(db, VECTORS_KEPT)
    if aged:
        log.debug("status_vectors_pruned", rows=aged)
