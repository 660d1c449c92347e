"""Every ranking configuration that serves is on the public record first.

At start, each region's transparency log is compared with the configuration in force (its SHA-256
over canonical JSON, see ``stoa.feeds.for_you.ranking_config``); if it differs from the last one
logged — a new model, new weights, new limits — a ``ranking.config`` entry with the hash and the
whole configuration is appended before the server answers a single request. An outsider can then
say which configuration ranked a feed at any moment, and reproduce it.
"""

from __future__ import annotations

from stoa.feeds.for_you import ranking_config, ranking_config_hash
from stoa.residency.transparency import Record, TransparencyLog

ACTION = "ranking.config"


async def log_ranking_config(log: TransparencyLog) -> bool:
    """Record the configuration in force unless it is already the last one logged; True if recorded."""
    digest = ranking_config_hash()
    last = await log.latest(ACTION)
    if last is not None and last.get("details", {}).get("sha256") == digest:
        return False
    await log.record(Record("system:stoa", ACTION, "the ranking configuration in force from now on", None,
                            {"sha256": digest, "config": ranking_config()}))
    return True
