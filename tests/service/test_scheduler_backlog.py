"""The scheduler never piles up checks: a check still waiting in the queue is not enqueued again."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from psycopg_pool import PoolTimeout

from app.db import open_pool
from app.queues import SELL_QUEUE, queue
from app.queues.sell_schedule import schedule_position, sell_job_id
from jobs.scheduler import TradingScheduler

POSITION = "11111111-1111-1111-1111-111111111111"


def make_due(redis_conn, scheduler: TradingScheduler) -> None:
    """Move every scheduled job's next run into the past."""
    past = (datetime.now(UTC) - timedelta(seconds=5)).timestamp()
    for member in redis_conn.zrange(scheduler.scheduled_jobs_key, 0, -1):
        redis_conn.zadd(scheduler.scheduled_jobs_key, {member: past})


def test_outage_leaves_at_most_one_queued_check_per_position(redis_conn):
    scheduler = TradingScheduler(queue_name=SELL_QUEUE, connection=redis_conn)
    schedule_position(redis_conn, POSITION, 1)
    for _ in range(30):  # 30 intervals pass while no worker takes anything off the queue
        make_due(redis_conn, scheduler)
        for job in scheduler.get_jobs_to_queue():
            scheduler.enqueue_job(job)
    sell_queue = queue(redis_conn, SELL_QUEUE)
    assert sell_queue.job_ids == [sell_job_id(POSITION)]
    next_run = redis_conn.zscore(scheduler.scheduled_jobs_key, sell_job_id(POSITION))
    assert next_run is not None and next_run > time.time() - 1  # still scheduled for the next interval


def test_a_check_that_ran_is_enqueued_again(redis_conn):
    scheduler = TradingScheduler(queue_name=SELL_QUEUE, connection=redis_conn)
    schedule_position(redis_conn, POSITION, 1)
    make_due(redis_conn, scheduler)
    for job in scheduler.get_jobs_to_queue():
        scheduler.enqueue_job(job)
    sell_queue = queue(redis_conn, SELL_QUEUE)
    job = sell_queue.fetch_job(sell_job_id(POSITION))
    sell_queue.remove(job)
    job.set_status("finished")  # what a worker leaves behind
    make_due(redis_conn, scheduler)
    for job in scheduler.get_jobs_to_queue():
        scheduler.enqueue_job(job)
    assert sell_queue.job_ids == [sell_job_id(POSITION)]


def test_a_down_database_fails_fast():
    pool = open_pool("postgresql://postgres@127.0.0.1:1/postgres", 2)
    started = time.monotonic()
    with pytest.raises(PoolTimeout):
        with pool.connection() as conn:
            conn.execute("SELECT 1")
    pool.close()
    assert time.monotonic() - started < 8
