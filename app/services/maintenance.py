"""Repairs the scheduler runs every minute: sell checks rebuilt from PostgreSQL, lost prediction jobs requeued."""

from __future__ import annotations

import logging
from uuid import UUID

from psycopg import Connection

from app.repos import orders as order_repo
from app.repos import positions as position_repo
from app.repos import predictions as prediction_repo
from app.repos import price_history as price_history_repo
from app.services import approvals as approval_service
from app.services import notifications as notification_service
from app.services.ports import Dispatcher

log = logging.getLogger(__name__)


def reconcile_sell_checks(conn: Connection, dispatcher: Dispatcher) -> dict[str, int]:
    """Schedule checks for every OPEN position and drop those of any other; returns counts."""
    return dispatcher.sync_sell_checks(position_repo.open_ids(conn))


def sweep_predictions(conn: Connection, dispatcher: Dispatcher, lease_seconds: float,
                      max_age_seconds: float) -> dict[str, int]:
    """Expire PENDING predictions too old to act on, requeue those whose evaluation died; returns counts.

    A prediction is lost when no evaluator holds its lease and its job is not waiting in the queue (the job
    failed, vanished with Redis, or its worker was killed): it is enqueued again; its claim keeps the
    evaluation single, and the execution's unique index keeps a buy from happening twice.
    """
    expired = prediction_repo.expire_unclaimed(conn, max_age_seconds, lease_seconds)
    lost: list[UUID] = [row["id"] for row in prediction_repo.lost(conn, lease_seconds)
                        if row["job_id"] is None or not dispatcher.job_waiting(row["job_id"])]
    if lost:
        prediction_repo.set_job(conn, lost, dispatcher.evaluate_predictions(lost))
    if expired or lost:
        log.info("prediction sweep: %d expired, %d requeued", expired, len(lost))
    return {"expired_predictions": expired, "requeued_predictions": len(lost)}


def run_maintenance(conn: Connection, dispatcher: Dispatcher, lease_seconds: float,
                    max_age_seconds: float, price_retention_days: int = 30) -> dict[str, int]:
    """Reconcile sell checks, sweep predictions, expire approvals, re-enqueue lost deliveries, purge old prices,
    and start the order reconciler when REAL orders are in flight."""
    counts = reconcile_sell_checks(conn, dispatcher)
    counts.update(sweep_predictions(conn, dispatcher, lease_seconds, max_age_seconds))
    counts["requeued_notifications"] = notification_service.sweep_deliveries(conn, dispatcher)
    counts["expired_approvals"] = approval_service.expire_due(conn)
    counts["daily_summaries"] = notification_service.summarise_yesterday(conn, dispatcher)
    counts["purged_prices"] = price_history_repo.purge_older_than(conn, price_retention_days)
    counts["open_orders"] = order_repo.count_open(conn)
    if counts["open_orders"]:
        dispatcher.reconcile_orders()
    if counts["added"] or counts["removed"]:
        log.info("maintenance: %s", counts)
    return counts
