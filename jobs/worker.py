"""Worker process: `python -m jobs.worker` runs WORKER_PROCESSES RQ workers on every queue of the service.

Queues in priority order: buy, sell, default (maintenance), notifications, backtests; worker 1 takes every
queue, the others every queue but backtests (`app.queues.worker_queues`), unless WORKER_QUEUES names them.

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
import sys
import time

import psycopg
import redis
from psycopg_pool import PoolTimeout
from rq import SimpleWorker, Worker
from rq.utils import import_attribute

from app import bootstrap
from app.queues import worker_queues
from app.supervisor import ChildSpec, Supervisor, backoff

QUEUES_ARG = "--queues="
STOP_TIMEOUT_SECONDS = 10  # for the current jobs to finish (the runner waits 15 s for this process)

log = logging.getLogger("jobs.worker")  # not __main__ under `python -m`


def warm_up() -> None:
    """Import the job modules (and XGBoost) and open the pool before the first job, not during it.

    Safe with SimpleWorker, which runs jobs in this process: nothing is forked after XGBoost loads.
    """
    import jobs.buy
    import jobs.sell  # noqa: F401

    with bootstrap.process().db() as conn:
        conn.execute("SELECT 1")


def supervise(count: int) -> int:
    """Run `count` single workers as child processes, restarting any that exits, until told to stop."""
    queues = bootstrap.process().config.worker_queues
    specs = [ChildSpec(f"worker {n}", [sys.executable, "-m", "jobs.worker", "--single",
                                       QUEUES_ARG + ",".join(worker_queues(n, queues))]) for n in range(1, count + 1)]
    return Supervisor(specs, log.log, stop_timeout=STOP_TIMEOUT_SECONDS).run()


def wait_for_services(process: bootstrap.Process) -> None:
    """Return once Redis and PostgreSQL answer, retrying with backoff (and saying so) while they do not."""
    for delay in backoff():
        try:
            process.redis.ping()
            with process.db() as conn:
                conn.execute("SELECT 1")
            return
        except (redis.RedisError, psycopg.Error, PoolTimeout) as exc:
            log.warning("waiting for Redis and PostgreSQL (%s); retrying in %gs", exc, delay)
            time.sleep(delay)


def run_single() -> None:
    """Run one worker in this process until it is told to stop."""
    process = bootstrap.process()
    config = process.config
    wait_for_services(process)
    worker_class: type[Worker] = SimpleWorker
    if config.worker_class:
        worker_class = import_attribute(config.worker_class)
    else:
        warm_up()
    worker = worker_class(list(_queues_argument() or worker_queues(1, config.worker_queues)), connection=process.redis)
    worker.work(with_scheduler=False, logging_level=config.log_level)


def _queues_argument() -> tuple[str, ...]:
    """The queues the supervisor gave this single worker (`--queues=buy,sell,…`), or () for none given."""
    given = [arg[len(QUEUES_ARG):] for arg in sys.argv if arg.startswith(QUEUES_ARG)]
    return tuple(name for name in given[-1].split(",") if name) if given else ()


def main() -> None:
    """One worker, or a supervisor of WORKER_PROCESSES workers."""
    config = bootstrap.process().config
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if "--single" in sys.argv or config.worker_processes == 1:
        run_single()
    else:
        sys.exit(supervise(config.worker_processes))


if __name__ == "__main__":
    main()
