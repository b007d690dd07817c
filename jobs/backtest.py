"""The backtest job body, run by an RQ worker on the backtests queue."""

from __future__ import annotations

from uuid import UUID

from app import bootstrap
from app.services import backtests


def run(backtest_id: str) -> dict:
    """Run one stored backtest; its row records progress and the result (or the error)."""
    result = backtests.run_backtest(bootstrap.process().config, UUID(backtest_id))
    return result["summary"]
