"""The RQ adapter: queue names, enqueueing buy evaluations, scheduling sell checks.

Jobs are referenced by dotted name (`jobs.buy.evaluate_predictions`), so `app/` never imports
`jobs/`; the composition root (`app/bootstrap.py`) hands `RqDispatcher` to the services.
"""

from __future__ import annotations

from redis import Redis
from rq import Queue

BUY_QUEUE = "buy"
SELL_QUEUE = "sell"
DEFAULT_QUEUE = "default"  # the scheduler's maintenance
NOTIFY_QUEUE = "notifications"  # webhook and Telegram deliveries: a backlog never sits in front of trading jobs
BACKTEST_QUEUE = "backtests"  # long replays
ALL_QUEUES = (BUY_QUEUE, SELL_QUEUE, DEFAULT_QUEUE, NOTIFY_QUEUE, BACKTEST_QUEUE)  # a worker's priority order


def worker_queues(number: int, configured: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The queues single worker `number` (1-based) listens on, highest priority first.

    WORKER_QUEUES when configured; otherwise every queue for worker 1 and every queue but backtests for the
    others, so one backtest at a time runs and, with two workers or more, one is always free for trading.
    """
    if configured:
        return configured
    return ALL_QUEUES if number == 1 else tuple(name for name in ALL_QUEUES if name != BACKTEST_QUEUE)


def queue(redis: Redis, name: str) -> Queue:
    """An RQ queue by name."""
    return Queue(name, connection=redis)
