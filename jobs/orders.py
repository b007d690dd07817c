"""Order jobs: the reconciler that finishes REAL orders a worker left unresolved."""

from __future__ import annotations

from app import bootstrap
from app.services.reconciler import reconcile_orders


def reconcile() -> dict[str, int]:
    """Resolve every SENT (or stale PENDING) order from the chain; returns counts by state."""
    process = bootstrap.process()
    with process.db() as conn:
        return reconcile_orders(conn, process.chain_executor, process.buy_deps(conn), process.sell_deps(conn))
