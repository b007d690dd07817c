"""Maintenance job body, run by the scheduler process at start, every minute and after a Redis flush."""

from __future__ import annotations

from app import bootstrap
from app.services.maintenance import run_maintenance as maintain


def run_maintenance() -> dict[str, int]:
    """Reconcile sell schedules with PostgreSQL and requeue lost predictions; returns what changed."""
    process = bootstrap.process()
    with process.db() as conn:
        return maintain(conn, process.dispatcher)
