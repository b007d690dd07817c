"""BUY jobs: evaluate posted predictions (one job per POST)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from uuid import UUID

from psycopg import Connection
from redis.exceptions import RedisError

from app.ml import process_cache
from app.pricing.factory import price_source
from app.services.buy_engine import BuyDeps, evaluate_prediction
from app.services.models import predict_for_mint
from jobs import context
from jobs.sell import schedule_position

log = logging.getLogger(__name__)


def _predict(conn: Connection, model_id: int, mint: str, at: datetime) -> float:
    staleness = timedelta(seconds=context.config().feature_max_staleness_seconds)
    probability, _features = predict_for_mint(conn, model_id, mint, at, process_cache(), staleness)
    return probability


def _on_position_opened(position_id: UUID) -> None:
    """Start the position's sell checks; if Redis is unreachable the scheduler's reconciler does it later."""
    try:
        schedule_position(context.redis(), position_id, context.config().sell_check_interval_seconds)
    except RedisError:
        log.warning("could not schedule sell checks of position %s now; the reconciler will", position_id)


def buy_deps(conn: Connection) -> BuyDeps:
    """The engine's dependencies in a worker process."""
    cfg = context.config()
    return BuyDeps(price_source=price_source(cfg, conn, context.redis()), predict=_predict,
                   fee_bps=cfg.paper_fee_bps, on_position_opened=_on_position_opened)


def evaluate_predictions(prediction_ids: list[str]) -> list[list[dict]]:
    """Evaluate each prediction against its BUY workflows, in order; returns the outcomes."""
    results = []
    with context.db() as conn:
        deps = buy_deps(conn)
        for prediction_id in prediction_ids:
            results.append(evaluate_prediction(conn, UUID(prediction_id), deps))
    return results
