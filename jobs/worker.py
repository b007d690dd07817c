"""Worker process: `python -m jobs.worker` runs WORKER_PROCESSES RQ workers on every queue of the service.

With WORKER_PROCESSES > 1 (default 2, what bench/sell_capacity.py showed holds 5,000 open positions at
15 s on 2 cores) this process supervises that many single workers, started as fresh interpreters (no
fork): one that exits is restarted with backoff ("worker 2 exited with SIGKILL; restarting in 1s"),
SIGTERM/SIGINT/SIGHUP stop them all, and the supervisor exits (1) only when one keeps crashing.
A single worker waits for Redis and PostgreSQL to answer before it starts, so an outage is waited out.

A SimpleWorker (jobs run in the worker process, no fork per job) is the default: it is ~3x faster
here and keeps XGBoost/OpenMP out of forked children. Set WORKER_CLASS=rq.Worker for the forking worker.
"""

from __future__ import annotations

import logging
import os
import sys
import time

import psycopg
import redis
from rq import SimpleWorker, Worker
from rq.utils import import_attribute

from app.config import Config, load_config
from app.db import connect
from app.supervisor import ChildSpec, Supervisor, backoff
from jobs.queues import ALL_QUEUES, redis_connection

STOP_TIMEOUT_SECONDS = 10  # for the current jobs to finish (the runner waits 15 s for this process)

log = logging.getLogger("jobs.worker")  # not __main__ under `python -m`


def warm_up() -> None:
    """Import the job modules (and XGBoost) and open the pool before the first job, not during it.

    Safe with SimpleWorker, which runs jobs in this process: nothing is forked after XGBoost loads.
    """
    import jobs.buy
    import jobs.sell  # noqa: F401
    from jobs import context

    with context.db() as conn:
        conn.execute("SELECT 1")


def supervise(count: int) -> int:
    """Run `count` single workers as child processes, restarting any that exits, until told to stop."""
    specs = [ChildSpec(f"worker {n}", [sys.executable, "-m", "jobs.worker", "--single"]) for n in range(1, count + 1)]
    return Supervisor(specs, log.log, stop_timeout=STOP_TIMEOUT_SECONDS).run()


def wait_for_services(config: Config) -> None:
    """Return once Redis and PostgreSQL answer, retrying with backoff (and saying so) while they do not."""
    for delay in backoff():
        try:
            redis_connection(config).ping()
            with connect(config.database_url) as conn:
                conn.execute("SELECT 1")
            return
        except (redis.RedisError, psycopg.Error) as exc:
            log.warning("waiting for Redis and PostgreSQL (%s); retrying in %gs", exc, delay)
            time.sleep(delay)


def run_single() -> None:
    """Run one worker in this process until it is told to stop."""
    config = load_config()
    wait_for_services(config)
    if not os.environ.get("WORKER_CLASS"):
        warm_up()
    worker_class: type[Worker] = SimpleWorker
    if os.environ.get("WORKER_CLASS"):
        worker_class = import_attribute(os.environ["WORKER_CLASS"])
    queues = os.environ.get("WORKER_QUEUES", ",".join(ALL_QUEUES)).split(",")
    worker = worker_class(queues, connection=redis_connection(config))
    worker.work(with_scheduler=False, logging_level=config.log_level)


def main() -> None:
    """One worker, or a supervisor of WORKER_PROCESSES workers."""
    config = load_config()
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    count = config.worker_processes
    if "--single" in sys.argv or count == 1:
        run_single()
    else:
        sys.exit(supervise(count))


if __name__ == "__main__":
    main()
