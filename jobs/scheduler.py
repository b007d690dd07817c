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

import redis
from rq_scheduler import Scheduler

from app.config import load_config
from app.supervisor import backoff
from jobs.maintenance import run_maintenance
from jobs.queues import DEFAULT_QUEUE, redis_connection

POLL_SECONDS = 1
MAINTENANCE_EVERY_SECONDS = 60
SENTINEL_KEY = "tw:maintenance:sentinel"
STABLE_AFTER_SECONDS = 30  # a loop that ran this long before Redis went away starts the backoff over

log = logging.getLogger(__name__)
_stop_requested = threading.Event()


class TradingScheduler(Scheduler):
    """rq-scheduler that also runs maintenance when due or when Redis was flushed."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._next_maintenance = 0.0

    def enqueue_jobs(self):
        """Maintenance first (when due), then move due scheduled jobs to their queues."""
        if time.monotonic() >= self._next_maintenance or not self.connection.exists(SENTINEL_KEY):
            self._maintain()
        return super().enqueue_jobs()

    def _maintain(self) -> None:
        try:
            run_maintenance()
            self.connection.set(SENTINEL_KEY, b"1")
            self._next_maintenance = time.monotonic() + MAINTENANCE_EVERY_SECONDS
        except Exception:
            log.exception("maintenance failed; retrying on the next poll")

    def _install_signal_handlers(self):
        """SIGTERM/SIGINT end the loop even while Redis is away (the upstream handler needs Redis)."""
        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)


def _stop(_signum, _frame) -> None:
    """Leave the run loop; its `finally` removes the lock and registers the death when Redis answers."""
    log.info("Shutting down RQ scheduler...")
    _stop_requested.set()
    raise SystemExit(0)


def main() -> None:
    """Run the scheduler loop until stopped, waiting out Redis outages."""
    config = load_config()
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    connection = redis_connection(config)
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
