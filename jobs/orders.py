"""Order jobs: send a reserved REAL order; the reconciler that finishes those a worker left unresolved."""

from __future__ import annotations

from uuid import UUID

from app import bootstrap
from app.services.reconciler import execute_order, reconcile_orders


def reconcile() -> dict[str, int]:
    """Resolve every SENT (or stale PENDING) order from the chain; returns counts by state."""
    process = bootstrap.process()
    with process.db() as conn:
        return reconcile_orders(bootstrap.store(conn), process.chain_executor, process.buy_deps(conn),
                                process.sell_deps(conn))


def execute(order_id: str) -> str:
    """Send one PENDING order (a manual REAL sell) and apply its result; returns its state."""
    process = bootstrap.process()
    with process.db() as conn:
        return execute_order(bootstrap.store(conn), UUID(order_id), process.chain_executor, process.buy_deps(conn),
                             process.sell_deps(conn))
