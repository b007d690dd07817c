"""Scheduler process: `python -m jobs.scheduler`, rq-scheduler polling every second (rqscheduler -i 1)."""

from __future__ import annotations

import logging

from rq_scheduler import Scheduler

from app.config import load_config
from jobs.queues import DEFAULT_QUEUE, redis_connection

POLL_SECONDS = 1


def main() -> None:
    """Move due scheduled jobs onto their queues, every POLL_SECONDS."""
    config = load_config()
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    scheduler = Scheduler(queue_name=DEFAULT_QUEUE, connection=redis_connection(config), interval=POLL_SECONDS)
    scheduler.run()


if __name__ == "__main__":
    main()
