"""Scheduler process: `python -m jobs.scheduler`.

rq-scheduler polling every second (what `rqscheduler -i 1` does), plus maintenance in the
same loop: at start, every minute, and at once when Redis lost its data (a sentinel key is
gone), it rebuilds the sell-check schedule from PostgreSQL and requeues lost prediction jobs.
When Redis goes away the loop waits and reconnects with backoff (logging each retry) instead of exiting.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from datetime import UTC, datetime

import redis
from rq.job import Job, JobStatus
from rq_scheduler import Scheduler
from rq_scheduler.utils import to_unix

from app import bootstrap
from app.queues import DEFAULT_QUEUE
from app.queues.dispatch import enqueue_due_retries
from app.supervisor import backoff
from jobs.maintenance import run_maintenance, sweep_predictions

POLL_SECONDS = 1
MAINTENANCE_EVERY_SECONDS = 60
PREDICTION_SWEEP_EVERY_SECONDS = 10  # with a 20 s lease, a dead evaluation is requeued within ~30 s
STALE_QUEUED_INTERVALS = 20  # a job "queued" for longer than this many intervals is pushed again regardless
SENTINEL_KEY = "tw:maintenance:sentinel"
STABLE_AFTER_SECONDS = 30  # a loop that ran this long before Redis went away starts the backoff over

log = logging.getLogger(__name__)
_stop_requested = threading.Event()


class TradingScheduler(Scheduler):
    """rq-scheduler that also runs maintenance when due or when Redis was flushed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._next_maintenance = 0.0
        self._next_sweep = 0.0

    def enqueue_jobs(self):
        """Maintenance first (when due), then move due scheduled jobs to their queues."""
        if time.monotonic() >= self._next_maintenance or not self.connection.exists(SENTINEL_KEY):
            self._maintain()
        elif time.monotonic() >= self._next_sweep:
            self._sweep()
        enqueue_due_retries(self.connection)  # notification retries whose backoff is over
        return super().enqueue_jobs()

    def enqueue_job(self, job: Job) -> None:
        """Move a due job to its queue, unless its previous run still waits there (then only reschedule it).

        So an outage that stops the workers leaves at most one queued check per position, not one per
        interval; a run that started (or whose worker died) is enqueued again as usual.
        """
        if _still_queued(job, self.now()):
            self.log.debug("%s has not run since its last enqueue; skipping this interval", job.id)
            self.connection.zadd(self.scheduled_jobs_key, {job.id: to_unix(self.now()) + int(job.meta["interval"])})
            return
        super().enqueue_job(job)

    def now(self) -> datetime:
        """Naive UTC now, as rq-scheduler keeps its times."""
        return datetime.now(UTC).replace(tzinfo=None)

    def _maintain(self) -> None:
        try:
            run_maintenance()
            self.connection.set(SENTINEL_KEY, b"1")
            self._next_maintenance = time.monotonic() + MAINTENANCE_EVERY_SECONDS
            self._next_sweep = time.monotonic() + PREDICTION_SWEEP_EVERY_SECONDS
        except Exception:
            log.exception("maintenance failed; retrying on the next poll")

    def _sweep(self) -> None:
        self._next_sweep = time.monotonic() + PREDICTION_SWEEP_EVERY_SECONDS
        try:
            sweep_predictions()
        except Exception:
            log.exception("prediction sweep failed; retrying in %ss", PREDICTION_SWEEP_EVERY_SECONDS)


    def _install_signal_handlers(self):
        """SIGTERM/SIGINT end the loop even while Redis is away (the upstream handler needs Redis)."""
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)



def _still_queued(job: Job, now: datetime) -> bool:
    """A periodic job whose last enqueue has not been picked up yet (and is not implausibly old)."""
    interval = job.meta.get("interval")
    if not interval or job.get_status(refresh=False) != JobStatus.QUEUED or job.enqueued_at is None:
        return False
    return (now - job.enqueued_at.replace(tzinfo=None)).total_seconds() < STALE_QUEUED_INTERVALS * int(interval)


def _stop(_signum, _frame) -> None:
    """Leave the run loop; its `finally` removes the lock and registers the death when Redis answers."""
    log.info("Shutting down RQ scheduler...")
    _stop_requested.set()
    raise SystemExit(0)


def main() -> None:
    """Run the scheduler loop until stopped, waiting out Redis outages."""
    process = bootstrap.process()
    logging.basicConfig(level=process.config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    connection = process.redis
    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    delays = backoff()
    while True:
        started = time.monotonic()
        try:
            connection.delete(f"{Scheduler.scheduler_key}:{DEFAULT_QUEUE}")  # a crashed predecessor's birth record
            TradingScheduler(queue_name=DEFAULT_QUEUE, connection=connection, interval=POLL_SECONDS).run()
            return
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            if _stop_requested.is_set():  # stopped while Redis was away: its `finally` could not say goodbye
                return
            if time.monotonic() - started >= STABLE_AFTER_SECONDS:
                delays = backoff()
            delay = next(delays)
            log.warning("Redis unavailable (%s); reconnecting in %gs", exc, delay)
            time.sleep(delay)


if __name__ == "__main__":
    main()
