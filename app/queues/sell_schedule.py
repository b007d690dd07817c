"""Sell checks in rq-scheduler: one periodic job per open position, under a deterministic id."""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from redis import Redis
from rq_scheduler import Scheduler

from app.queues import SELL_QUEUE

CHECK_JOB = "jobs.sell.check_position_job"
JOB_PREFIX = "sell-"
CHECK_TIMEOUT_SECONDS = 60


def sell_job_id(position_id: UUID | str) -> str:
    """The one scheduled job id of a position's checks."""
    return f"{JOB_PREFIX}{position_id}"


def scheduler(redis: Redis) -> Scheduler:
    """An rq-scheduler handle on the sell queue."""
    return Scheduler(queue_name=SELL_QUEUE, connection=redis)


def schedule_position(redis: Redis, position_id: UUID | str, interval: int, first_run: datetime | None = None) -> None:
    """Check the position every `interval` seconds from first_run (default now); idempotent (one id)."""
    first = (first_run or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    scheduler(redis).schedule(
        scheduled_time=first, func=CHECK_JOB, args=[str(position_id)], interval=interval, repeat=None,
        # result_ttl=-1 keeps the job hash between runs: with 0 the worker deletes it and rq-scheduler drops the
        # schedule. RQ caps each job's result stream at 10 entries; cancel_position deletes the hash.
        id=sell_job_id(position_id), queue_name=SELL_QUEUE, result_ttl=-1, timeout=CHECK_TIMEOUT_SECONDS,
    )


def cancel_position(redis: Redis, position_id: UUID | str) -> None:
    """Stop checking a position (it closed)."""
    job_id = sell_job_id(position_id)
    scheduler(redis).cancel(job_id)
    redis.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")


def spread_first_run(position_id: str, now: datetime, interval: int) -> datetime:
    """A stable offset inside one interval, so rebuilt schedules do not all fire in the same second."""
    offset_ms = zlib.crc32(position_id.encode()) % (interval * 1000)
    return now + timedelta(milliseconds=offset_ms)


def scheduled_position_ids(redis: Redis) -> set[str]:
    """Ids of the positions whose checks are scheduled."""
    members = redis.zrange(scheduler(redis).scheduled_jobs_key, 0, -1)
    return {m.decode()[len(JOB_PREFIX):] for m in members if m.startswith(JOB_PREFIX.encode())}


def sync_schedules(redis: Redis, open_ids: Iterable[UUID | str], interval: int) -> dict[str, int]:
    """Make the scheduled checks match exactly these open positions; returns counts."""
    wanted = {str(pid) for pid in open_ids}
    scheduled = scheduled_position_ids(redis)
    now = datetime.now(UTC)
    for position_id in wanted - scheduled:
        schedule_position(redis, position_id, interval, spread_first_run(position_id, now, interval))
    for position_id in scheduled - wanted:
        cancel_position(redis, position_id)
    return {"open": len(wanted), "added": len(wanted - scheduled), "removed": len(scheduled - wanted)}
