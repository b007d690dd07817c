"""Worker process: `python -m jobs.worker` runs an RQ worker on every queue of the service.

A SimpleWorker (jobs run in the worker process, no fork per job) is the default:
it is ~3x faster here and keeps XGBoost/OpenMP out of forked children. Set
WORKER_CLASS=rq.Worker for the forking worker.
"""

from __future__ import annotations

import logging
import os

from rq import SimpleWorker, Worker
from rq.utils import import_attribute

from app.config import load_config
from jobs.queues import ALL_QUEUES, redis_connection


def warm_up() -> None:
    """Import the job modules (and XGBoost) and open the pool before the first job, not during it.

    Safe with SimpleWorker, which runs jobs in this process: nothing is forked after XGBoost loads.
    """
    import jobs.buy
    import jobs.sell  # noqa: F401
    from jobs import context

    with context.db() as conn:
        conn.execute("SELECT 1")


def main() -> None:
    """Run the worker until it is told to stop."""
    config = load_config()
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not os.environ.get("WORKER_CLASS"):
        warm_up()
    worker_class: type[Worker] = SimpleWorker
    if os.environ.get("WORKER_CLASS"):
        worker_class = import_attribute(os.environ["WORKER_CLASS"])
    queues = os.environ.get("WORKER_QUEUES", ",".join(ALL_QUEUES)).split(",")
    worker = worker_class(queues, connection=redis_connection(config))
    worker.work(with_scheduler=False, logging_level=config.log_level)


if __name__ == "__main__":
    main()
