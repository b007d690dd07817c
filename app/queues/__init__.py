"""The RQ adapter: queue names, enqueueing buy evaluations, scheduling sell checks.

Jobs are referenced by dotted name (`jobs.buy.evaluate_predictions`), so `app/` never imports
`jobs/`; the composition root (`app/bootstrap.py`) hands `RqDispatcher` to the services.
"""

from __future__ import annotations

from redis import Redis
from rq import Queue

BUY_QUEUE = "buy"
SELL_QUEUE = "sell"
DEFAULT_QUEUE = "default"
ALL_QUEUES = (BUY_QUEUE, SELL_QUEUE, DEFAULT_QUEUE)


def queue(redis: Redis, name: str) -> Queue:
    """An RQ queue by name."""
    return Queue(name, connection=redis)
