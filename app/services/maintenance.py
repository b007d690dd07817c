"""Repairs the scheduler runs every minute: sell checks rebuilt from PostgreSQL, lost prediction jobs requeued."""

from __future__ import annotations

import logging
from uuid import UUID

from psycopg import Connection

from app.repos import positions as position_repo
from app.repos import predictions as prediction_repo
from app.services.ports import Dispatcher

log = logging.getLogger(__name__)

STALE_PREDICTION_SECONDS = 30


def reconcile_sell_checks(conn: Connection, dispatcher: Dispatcher) -> dict[str, int]:
    """Schedule checks for every OPEN position and drop those of any other; returns counts."""
    return dispatcher.sync_sell_checks(position_repo.open_ids(conn))


def requeue_lost_predictions(conn: Connection, dispatcher: Dispatcher) -> int:
    """Re-enqueue PENDING predictions whose evaluation job no longer exists; returns how many."""
    lost: list[UUID] = [row["id"] for row in prediction_repo.pending_older_than(conn, STALE_PREDICTION_SECONDS)
                        if row["job_id"] is None or not dispatcher.job_exists(row["job_id"])]
    if lost:
        prediction_repo.set_job(conn, lost, dispatcher.evaluate_predictions(lost))
    return len(lost)


def run_maintenance(conn: Connection, dispatcher: Dispatcher) -> dict[str, int]:
    """Reconcile sell checks and requeue lost predictions; returns what changed."""
    counts = reconcile_sell_checks(conn, dispatcher)
    counts["requeued_predictions"] = requeue_lost_predictions(conn, dispatcher)
    if counts["added"] or counts["removed"] or counts["requeued_predictions"]:
        log.info("maintenance: %s", counts)
    return counts
