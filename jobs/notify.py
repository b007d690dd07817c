"""Notification job: send one recorded delivery (a webhook POST or a Telegram message); RQ retries a failure."""

from __future__ import annotations

from rq import get_current_job

from app import bootstrap
from app.services import notifications


def deliver(delivery_id: int) -> str:
    """Send the delivery once its event committed; raises to be retried, FAILED after the last attempt."""
    job = get_current_job()
    final = job is None or not job.retries_left
    process = bootstrap.process()
    with process.db() as conn:
        return notifications.deliver(conn, delivery_id, process.config, final)
