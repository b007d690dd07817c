"""Worker process: `python -m jobs.worker` runs WORKER_PROCESSES RQ workers on every queue of the service.

With WORKER_PROCESSES > 1 (default 2, what bench/sell_capacity.py showed holds 5,000 open positions at
15 s on 2 cores) this process supervises that many single workers, started as fresh interpreters (no
fork), forwards SIGTERM/SIGINT to them and exits when one of them does, so the platform restarts the lot.

A SimpleWorker (jobs run in the worker process, no fork per job) is the default: it is ~3x faster
here and keeps XGBoost/OpenMP out of forked children. Set WORKER_CLASS=rq.Worker for the forking worker.
"""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time

from rq import SimpleWorker, Worker
from rq.utils import import_attribute

from app import bootstrap
from app.queues import ALL_QUEUES


def warm_up() -> None:
    """Import the job modules (and XGBoost) and open the pool before the first job, not during it.

    Safe with SimpleWorker, which runs jobs in this process: nothing is forked after XGBoost loads.
    """
    import jobs.buy
    import jobs.sell  # noqa: F401

    with bootstrap.process().db() as conn:
        conn.execute("SELECT 1")


def supervise(count: int) -> int:
    """Run `count` single workers as child processes until one exits or we are told to stop."""
    children = [subprocess.Popen([sys.executable, "-m", "jobs.worker", "--single"]) for _ in range(count)]

    def forward(signum, _frame):
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, forward)
    while all(child.poll() is None for child in children):
        time.sleep(0.5)
    forward(signal.SIGTERM, None)
    return max(child.wait() for child in children)


def run_single() -> None:
    """Run one worker in this process until it is told to stop."""
    process = bootstrap.process()
    config = process.config
    logging.basicConfig(level=config.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    worker_class: type[Worker] = SimpleWorker
    if config.worker_class:
        worker_class = import_attribute(config.worker_class)
    else:
        warm_up()
    worker = worker_class(list(config.worker_queues or ALL_QUEUES), connection=process.redis)
    worker.work(with_scheduler=False, logging_level=config.log_level)


def main() -> None:
    """One worker, or a supervisor of WORKER_PROCESSES workers."""
    count = bootstrap.process().config.worker_processes
    if "--single" in sys.argv or count == 1:
        run_single()
    else:
        sys.exit(supervise(count))


if __name__ == "__main__":
    main()
