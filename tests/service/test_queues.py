"""Queue routing on real Redis: deliveries and backtests on their own queues, behind trading jobs."""

from __future__ import annotations

import uuid

from rq import Queue, SimpleWorker
from rq.job import Job

from app.queues import BACKTEST_QUEUE, BUY_QUEUE, DEFAULT_QUEUE, NOTIFY_QUEUE, SELL_QUEUE, worker_queues
from app.queues.dispatch import RqDispatcher


def test_deliveries_and_backtests_go_on_their_own_queues(redis_conn):
    dispatcher = RqDispatcher(redis_conn, 15)
    dispatcher.deliver_notification(7)
    backtest_id = uuid.uuid4()
    dispatcher.run_backtest(backtest_id, 3600)
    assert Queue(NOTIFY_QUEUE, connection=redis_conn).job_ids == ["notify-7"]
    assert Queue(BACKTEST_QUEUE, connection=redis_conn).job_ids == [f"backtest-{backtest_id}"]
    for name in (BUY_QUEUE, SELL_QUEUE, DEFAULT_QUEUE):
        assert Queue(name, connection=redis_conn).count == 0


def test_a_delivery_backlog_never_runs_before_trading_jobs(redis_conn):
    """Deliveries queued first still wait: a worker takes buy and sell jobs before any of them."""
    backlog = [Queue(NOTIFY_QUEUE, connection=redis_conn).enqueue("time.time") for _ in range(20)]
    backtest = Queue(BACKTEST_QUEUE, connection=redis_conn).enqueue("time.time")
    trading = [Queue(BUY_QUEUE, connection=redis_conn).enqueue("time.time"),
               Queue(SELL_QUEUE, connection=redis_conn).enqueue("time.time")]
    SimpleWorker(list(worker_queues(2)), connection=redis_conn).work(burst=True, logging_level="WARNING")
    ended = {job.id: job.ended_at for job in Job.fetch_many([j.id for j in backlog + trading], connection=redis_conn)}
    assert max(ended[job.id] for job in trading) < min(ended[job.id] for job in backlog)
    assert Queue(BACKTEST_QUEUE, connection=redis_conn).job_ids == [backtest.id]  # left to worker 1
    SimpleWorker(list(worker_queues(1)), connection=redis_conn).work(burst=True, logging_level="WARNING")
    assert Queue(BACKTEST_QUEUE, connection=redis_conn).count == 0
