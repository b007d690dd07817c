"""BUY job: evaluate posted predictions (one job per POST /api/predictions)."""

from __future__ import annotations

from uuid import UUID

from app import bootstrap
from app.services.buy_engine import evaluate_prediction


def evaluate_predictions(prediction_ids: list[str]) -> list[list[dict]]:
    """Evaluate each prediction against its BUY workflows, in order; returns the outcomes."""
    process = bootstrap.process()
    with process.db() as conn:
        deps = process.buy_deps(conn)
        store = bootstrap.store(conn)
        return [evaluate_prediction(store, UUID(prediction_id), deps) for prediction_id in prediction_ids]
