"""Repairs run by the scheduler process: sell schedules from PostgreSQL, lost prediction jobs."""

from __future__ import annotations

import logging
from uuid import UUID

from rq.job import Job

from app.repos import predictions as prediction_repo
from jobs import context
from jobs.enqueue import enqueue_buy_evaluation
from jobs.sell import reconcile_schedules

log = logging.getLogger(__name__)

STALE_PREDICTION_SECONDS = 30


def requeue_lost_predictions(conn) -> int:
    """Re-enqueue PENDING predictions whose evaluation job no longer exists in Redis; returns how many."""
    lost: list[UUID] = []
    for row in prediction_repo.pending_older_than(conn, STALE_PREDICTION_SECONDS):
        if row["job_id"] is None or not Job.exists(row["job_id"], connection=context.redis()):
            lost.append(row["id"])
    if lost:
        job_id = enqueue_buy_evaluation(context.config(), lost)
        prediction_repo.set_job(conn, lost, job_id)
    return len(lost)


def run_maintenance() -> dict[str, int]:
    """Reconcile sell schedules and requeue lost predictions; returns what changed."""
    with context.db() as conn:
        counts = reconcile_schedules(conn, context.redis(), context.config().sell_check_interval_seconds)
        counts["requeued_predictions"] = requeue_lost_predictions(conn)
    if counts["added"] or counts["removed"] or counts["requeued_predictions"]:
        log.info("maintenance: %s", counts)
    return counts
