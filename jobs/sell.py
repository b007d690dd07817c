"""SELL jobs: one periodic check per open position, scheduled with rq-scheduler under a deterministic id."""

from __future__ import annotations

import logging
import time
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID

from psycopg import Connection
from redis import Redis
from redis.exceptions import RedisError
from rq import get_current_job
from rq_scheduler import Scheduler

from app.core.paper import price_per_token
from app.pricing.factory import price_source
from app.pricing.sources import PriceSource, PriceUnavailable
from app.repos import positions as position_repo
from app.services.sell_engine import SellDeps, check_position
from jobs import context
from jobs.queues import SELL_QUEUE

log = logging.getLogger(__name__)

JOB_PREFIX = "sell-"
CHECK_TIMEOUT_SECONDS = 60
_PRICE_WAIT_SECONDS = 2.0


def sell_job_id(position_id: UUID | str) -> str:
    """The one scheduled job id of a position's checks."""
    return f"{JOB_PREFIX}{position_id}"


def scheduler(redis_conn: Redis) -> Scheduler:
    """An rq-scheduler handle."""
    return Scheduler(queue_name=SELL_QUEUE, connection=redis_conn)


def schedule_position(redis_conn: Redis, position_id: UUID | str, interval: int,
                      first_run: datetime | None = None) -> None:
    """Check the position every `interval` seconds from first_run (default now); idempotent (one id)."""
    first = (first_run or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    scheduler(redis_conn).schedule(
        scheduled_time=first, func=check_position_job, args=[str(position_id)], interval=interval, repeat=None,
        # result_ttl=-1 keeps the job hash between runs: with 0 the worker deletes it and rq-scheduler drops the
        # schedule. RQ caps each job's result stream at 10 entries; cancel_position deletes the hash.
        id=sell_job_id(position_id), queue_name=SELL_QUEUE, result_ttl=-1, timeout=CHECK_TIMEOUT_SECONDS,
    )


def cancel_position(redis_conn: Redis, position_id: UUID | str) -> None:
    """Stop checking a position (it closed)."""
    job_id = sell_job_id(position_id)
    scheduler(redis_conn).cancel(job_id)
    redis_conn.delete(f"rq:job:{job_id}", f"rq:results:{job_id}")


def cancel_quietly(redis_conn: Redis, position_id: UUID | str) -> None:
    """cancel_position after a committed close: if Redis is unreachable, the reconciler drops the schedule."""
    try:
        cancel_position(redis_conn, position_id)
    except RedisError:
        log.warning("could not unschedule closed position %s now; the reconciler will", position_id)


def spread_first_run(position_id: str, now: datetime, interval: int) -> datetime:
    """A stable offset inside one interval, so rebuilt schedules do not all fire in the same second."""
    offset_ms = zlib.crc32(position_id.encode()) % (interval * 1000)
    return now + timedelta(milliseconds=offset_ms)


def reconcile_schedules(conn: Connection, redis_conn: Redis, interval: int) -> dict[str, int]:
    """Make the scheduled sell checks match PostgreSQL's OPEN positions exactly; returns counts."""
    open_ids = {str(pid) for pid in position_repo.open_ids(conn)}
    members = redis_conn.zrange(scheduler(redis_conn).scheduled_jobs_key, 0, -1)
    scheduled = {m.decode()[len(JOB_PREFIX):] for m in members if m.startswith(JOB_PREFIX.encode())}
    now = datetime.now(UTC)
    for position_id in open_ids - scheduled:
        schedule_position(redis_conn, position_id, interval, spread_first_run(position_id, now, interval))
    for position_id in scheduled - open_ids:
        cancel_position(redis_conn, position_id)
    return {"open": len(open_ids), "added": len(open_ids - scheduled), "removed": len(scheduled - open_ids)}


def shared_mint_price(redis: Redis, source: PriceSource, interval: int):
    """(mint, decimals, tokens_raw) -> price: one quote per mint per interval, shared by all workers via Redis."""

    def price(mint: str, decimals: int, tokens_raw: int) -> Decimal:
        key = f"tw:price:{source.name}:{mint}:{int(time.time() // interval)}"
        cached = redis.get(key) or _wait_for_other_quoter(redis, key)
        if cached is None:
            cached = _quote_and_share(redis, key, source, mint, decimals, tokens_raw, interval)
        text = cached.decode()
        if text.startswith("ERR:"):
            raise PriceUnavailable(text[4:])
        return Decimal(text)
    return price


def _wait_for_other_quoter(redis, key: str) -> bytes | None:
    if redis.set(key + ":lock", b"1", nx=True, ex=10):
        return None
    deadline = time.monotonic() + _PRICE_WAIT_SECONDS
    while time.monotonic() < deadline:
        time.sleep(0.02)
        value = redis.get(key)
        if value is not None:
            return value
    return None


def _quote_and_share(redis, key: str, source: PriceSource, mint: str, decimals: int, tokens_raw: int,
                     interval: int) -> bytes:
    try:
        quote = source.quote_sell(mint, decimals, tokens_raw)
        if quote.amount_out <= 0:
            raise PriceUnavailable(f"quote for {mint} returns no SOL")
        value = str(price_per_token(quote.amount_out, tokens_raw, decimals)).encode()
    except PriceUnavailable as exc:
        value = f"ERR:{exc}".encode()
    redis.set(key, value, ex=interval * 2)
    return value


def sell_deps(conn: Connection) -> SellDeps:
    """The sell engine's dependencies in a worker process."""
    cfg, redis = context.config(), context.redis()
    source = price_source(cfg, conn, redis)
    return SellDeps(price_source=source, fee_bps=cfg.paper_fee_bps,
                    mint_price=shared_mint_price(redis, source, cfg.sell_check_interval_seconds),
                    on_position_closed=lambda position_id: cancel_quietly(redis, position_id))


def check_position_job(position_id: str) -> dict:
    """Scheduled every interval per open position: price it, apply the SELL rules, sell at most once.

    Returns the outcome with when the job was enqueued and finished (kept in the job's last 10 results:
    the check lag is measured from them).
    """
    with context.db() as conn:
        outcome = check_position(conn, UUID(position_id), sell_deps(conn))
    job = get_current_job()
    enqueued = job.enqueued_at.replace(tzinfo=UTC).timestamp() if job and job.enqueued_at else None
    return {"result": outcome["result"], "rule": outcome.get("rule"), "enqueued_at": enqueued, "done_at": time.time()}
