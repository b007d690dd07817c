"""SELL job: one scheduled check of one open position (schedules live in app/queues/sell_schedule.py)."""

from __future__ import annotations

import time
from datetime import UTC
from uuid import UUID

from rq import get_current_job

from app import bootstrap
from app.services.sell_engine import check_position


def check_position_job(position_id: str) -> dict:
    """Price the position, apply the SELL rules, sell at most once.

    Returns the outcome with when the job was enqueued and finished (kept in the job's last 10 results:
    the check lag is measured from them).
    """
    process = bootstrap.process()
    with process.db() as conn:
        outcome = check_position(bootstrap.store(conn), UUID(position_id), process.sell_deps(conn))
    job = get_current_job()
    enqueued = job.enqueued_at.replace(tzinfo=UTC).timestamp() if job and job.enqueued_at else None
    return {"result": outcome["result"], "rule": outcome.get("rule"), "enqueued_at": enqueued, "done_at": time.time()}
