"""Maintenance job bodies, run by the scheduler process (see jobs/scheduler.py for when)."""

from __future__ import annotations

from app import bootstrap
from app.services import maintenance


def run_maintenance() -> dict[str, int]:
    """Reconcile sell schedules with PostgreSQL and sweep lost or stale predictions; returns what changed."""
    process = bootstrap.process()
    config = process.config
    with process.db() as conn:
        return maintenance.run_maintenance(conn, process.dispatcher, config.prediction_lease_seconds,
                                           config.prediction_max_age_seconds, config.price_history_retention_days)


def sweep_predictions() -> dict[str, int]:
    """Requeue predictions whose evaluation died and expire those too old to act on; returns counts."""
    process = bootstrap.process()
    config = process.config
    with process.db() as conn:
        return maintenance.sweep_predictions(conn, process.dispatcher, config.prediction_lease_seconds,
                                             config.prediction_max_age_seconds)
