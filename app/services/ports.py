"""What services need from the outside world besides PostgreSQL, as small protocols.

The composition root (`app/bootstrap.py`) passes implementations in; services never build them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol
from uuid import UUID


class Dispatcher(Protocol):
    """The job queue as services see it."""

    def evaluate_predictions(self, prediction_ids: list[UUID]) -> str:
        """Enqueue the evaluation of these predictions; returns the job id."""
        ...

    def job_waiting(self, job_id: str) -> bool:
        """True while the job still waits in its queue to be run."""
        ...

    def watch_position(self, position_id: UUID) -> None:
        """Start a newly opened position's periodic sell checks (never raises)."""
        ...

    def unwatch_position(self, position_id: UUID) -> None:
        """Stop a closed position's sell checks (never raises)."""
        ...

    def sync_sell_checks(self, open_ids: Iterable[UUID | str]) -> dict[str, int]:
        """Make the scheduled sell checks match exactly these open positions; returns counts."""
        ...

    def deliver_notification(self, delivery_id: int) -> None:
        """Enqueue one notification delivery on the notifications queue, retried with backoff."""
        ...

    def run_backtest(self, backtest_id: UUID, timeout_seconds: int) -> None:
        """Enqueue one backtest run on the backtests queue, killed after timeout_seconds."""
        ...

    def reconcile_orders(self) -> None:
        """Enqueue the order reconciler (one waiting run at a time)."""
        ...

    def execute_order(self, order_id: UUID) -> None:
        """Enqueue the sending of one reserved (PENDING) order."""
        ...
