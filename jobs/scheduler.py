"""Scheduler process: `python -m jobs.scheduler`.

rq-scheduler polling every second (what `rqscheduler -i 1` does), plus maintenance in the
same loop: at start, every minute, and at once when Redis lost its data (a sentinel key is
gone), it rebuilds the sell-check schedule from PostgreSQL and requeues lost prediction jobs.
"""

from __future__ import annotations

import logging
import time

from rq_scheduler import Scheduler

from app import bootstrap
from app.queues import DEFAULT_QUEUE
from jobs.maintenance import run_maintenance

POLL_SECONDS = 1
MAINTENANCE_EVERY_SECONDS = 60
SENTINEL_KEY = "tw:maintenance:sentinel"

log = logging.getLogger(__name__)


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


def main() -> None:
    """Run the scheduler loop until stopped."""
    process = bootstrap.process()
    logging.basicConfig(level=process.config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    connection = process.redis
    connection.delete(f"{Scheduler.scheduler_key}:{DEFAULT_QUEUE}")  # a crashed predecessor's birth record
    TradingScheduler(queue_name=DEFAULT_QUEUE, connection=connection, interval=POLL_SECONDS).run()


if __name__ == "__main__":
    main()
