"""Whether the ingest Redis keeps queued messages across a restart.

Accepted messages wait in a Redis stream until a worker stores them. Redis keeps its data in
memory: without an append-only file (`appendonly yes`) a restart or crash loses everything
since the last snapshot, so messages that were answered 200 are gone. Workers check this when
they start and log a warning; the Status page shows the same words.
"""

import logging

import redis

from ingest import queue

logger = logging.getLogger(__name__)

NO_AOF = (
    "The ingest Redis has no append-only file (appendonly is {value!r}): a Redis restart loses "
    "every message still queued. Set `appendonly yes` (see docs/operations.md)."
)
UNKNOWN = (
    "Could not check whether the ingest Redis keeps an append-only file ({error}); make sure it "
    "runs with `appendonly yes`, or a Redis restart loses every message still queued "
    "(see docs/operations.md)."
)


def redis_durability_problem(client: redis.Redis) -> str | None:
    """Why queued messages would not survive a Redis restart, or None when they would."""
    try:
        value = client.config_get("appendonly").get("appendonly")
    except redis.ResponseError as exc:
        # Managed Redis services and hardened set-ups rename or disable CONFIG.
        return UNKNOWN.format(error=f"CONFIG GET refused: {exc}")
    except redis.RedisError as exc:
        return UNKNOWN.format(error=f"Redis did not answer: {exc}")
    if value != "yes":
        return NO_AOF.format(value=value)
    return None


def worker_start_check() -> None:
    """Log a warning when the ingest Redis would lose queued messages on a restart."""
    client = queue.redis_client()
    if client is None:
        return
    problem = redis_durability_problem(client)
    if problem:
        logger.warning("ingest: %s", problem)
