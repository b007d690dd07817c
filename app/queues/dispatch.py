"""RqDispatcher: the services' port to the job queue (enqueue evaluations, start and stop sell checks)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterable
from uuid import UUID

from redis import Redis
from redis.exceptions import RedisError
from rq import Retry
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry

from app.queues import BACKTEST_QUEUE, BUY_QUEUE, DEFAULT_QUEUE, NOTIFY_QUEUE, SELL_QUEUE, queue
from app.queues import sell_schedule as schedules

log = logging.getLogger(__name__)

EVALUATE_JOB = "jobs.buy.evaluate_predictions"
EVALUATE_JOB_TIMEOUT = 120
NOTIFY_JOB = "jobs.notify.deliver"
NOTIFY_JOB_TIMEOUT = 60
BACKTEST_JOB = "jobs.backtest.run"
EXECUTE_ORDER_JOB = "jobs.orders.execute"
RECONCILE_JOB = "jobs.orders.reconcile"
RECONCILE_JOB_ID = "reconcile-orders"
RECONCILE_JOB_TIMEOUT = 600
_WAITING = (JobStatus.QUEUED, JobStatus.DEFERRED, JobStatus.SCHEDULED)


def new_evaluation_job_id() -> str:
    """A fresh id for a buy-evaluation job (RQ job ids: letters, digits, '-' and '_')."""
    return f"buy-{uuid.uuid4().hex}"


class RqDispatcher:
    """Enqueues buy evaluations and (un)schedules sell checks on one Redis."""

    def __init__(self, redis: Redis, check_interval_seconds: int, notify_retry_intervals: tuple[int, ...] = (10,)):
        self.redis = redis
        self.check_interval_seconds = check_interval_seconds
        self.notify_retry_intervals = notify_retry_intervals

    def evaluate_predictions(self, prediction_ids: list[UUID], job_id: str | None = None) -> str:
        """Enqueue one job evaluating these predictions, in order (under job_id if given); returns its job id."""
        job_id = job_id or new_evaluation_job_id()
        queue(self.redis, BUY_QUEUE).enqueue(
            EVALUATE_JOB, [str(pid) for pid in prediction_ids],
            job_id=job_id, job_timeout=EVALUATE_JOB_TIMEOUT, result_ttl=600, failure_ttl=86_400,
        )
        return job_id

    def job_waiting(self, job_id: str) -> bool:
        """True while the job still waits in its queue to be run (not started, not gone)."""
        job = Job.fetch(job_id, connection=self.redis) if Job.exists(job_id, connection=self.redis) else None
        return job is not None and job.get_status(refresh=False) in _WAITING

    def watch_position(self, position_id: UUID) -> None:
        """Start a new position's sell checks; if Redis is unreachable the scheduler's reconciler does it later."""
        try:
            schedules.schedule_position(self.redis, position_id, self.check_interval_seconds)
        except RedisError:
            log.warning("could not schedule sell checks of position %s now; the reconciler will", position_id)

    def unwatch_position(self, position_id: UUID) -> None:
        """Stop a closed position's checks; if Redis is unreachable the reconciler drops the schedule later."""
        try:
            schedules.cancel_position(self.redis, position_id)
        except RedisError:
            log.warning("could not unschedule closed position %s now; the reconciler will", position_id)

    def sync_sell_checks(self, open_ids: Iterable[UUID | str]) -> dict[str, int]:
        """Make the scheduled sell checks match exactly these open positions; returns counts."""
        return schedules.sync_schedules(self.redis, open_ids, self.check_interval_seconds)

    def deliver_notification(self, delivery_id: int) -> None:
        """Enqueue one delivery (job `notify-<id>`) on its own queue, never the trading ones; RQ retries it."""
        intervals = list(self.notify_retry_intervals)
        queue(self.redis, NOTIFY_QUEUE).enqueue(
            NOTIFY_JOB, delivery_id, job_id=f"notify-{delivery_id}", job_timeout=NOTIFY_JOB_TIMEOUT,
            retry=Retry(max=len(intervals), interval=intervals), result_ttl=3600, failure_ttl=86_400)

    def run_backtest(self, backtest_id: UUID, timeout_seconds: int) -> None:
        """Enqueue one backtest run (job `backtest-<id>`) on its own queue (not every worker takes it), killed after
        timeout_seconds."""
        queue(self.redis, BACKTEST_QUEUE).enqueue(
            BACKTEST_JOB, str(backtest_id), job_id=f"backtest-{backtest_id}", job_timeout=timeout_seconds,
            result_ttl=3600, failure_ttl=86_400)

    def execute_order(self, order_id: UUID) -> None:
        """Enqueue the sending of one reserved order (job `order-<id>`) on the sell queue."""
        queue(self.redis, SELL_QUEUE).enqueue(EXECUTE_ORDER_JOB, str(order_id), job_id=f"order-{order_id}",
                                              job_timeout=RECONCILE_JOB_TIMEOUT, result_ttl=3600, failure_ttl=86_400)

    def reconcile_orders(self) -> None:
        """Enqueue the order reconciler on the sell queue, unless a run of it still waits there."""
        if self.job_waiting(RECONCILE_JOB_ID):
            return
        queue(self.redis, SELL_QUEUE).enqueue(RECONCILE_JOB, job_id=RECONCILE_JOB_ID,
                                              job_timeout=RECONCILE_JOB_TIMEOUT, result_ttl=600, failure_ttl=86_400)


RETRY_QUEUES = (NOTIFY_QUEUE, DEFAULT_QUEUE)  # default: retries scheduled before deliveries had their own queue


def enqueue_due_retries(redis: Redis) -> int:
    """Move retries whose backoff is over (RQ's scheduled registries of RETRY_QUEUES) back to their queue.

    The workers run without RQ's own scheduler (it would fork), so the scheduler process calls this every poll.
    """
    return sum(_enqueue_due(redis, name) for name in RETRY_QUEUES)


def _enqueue_due(redis: Redis, name: str) -> int:
    """Move one queue's due retries back to it; returns how many."""
    registry = ScheduledJobRegistry(name, connection=redis)
    due = registry.get_jobs_to_schedule(int(time.time()))
    if not due:
        return 0
    target = queue(redis, name)
    with redis.pipeline() as pipeline:
        for job in Job.fetch_many(due, connection=redis):
            if job is not None:
                target._enqueue_job(job, pipeline=pipeline)
        for job_id in due:
            registry.remove(job_id, pipeline=pipeline)
        pipeline.execute()
    return len(due)
