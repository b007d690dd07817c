"""Train the demo's XGBoost models on the seeded simulated market (a few seconds, deterministic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import xgboost as xgb

from app.core.features import MetricPoint, compute_features, lookback
from app.demo.market import demo_mints, metric_point

TRIGGER_FEATURES = ["price_sol_pct_change_1m", "price_sol_pct_change_5m", "volume_sol_sum_5m"]
CONDITION_FEATURES = ["price_sol_pct_change_15m", "price_sol_pct_change_5m", "volume_sol_mean_15m"]
TRAINING_START = datetime(2025, 12, 1, tzinfo=UTC)
TRAINING_MINTS = 16
TRAINING_HOURS = 4


def training_set(seed: int, feature_names: list[str], horizon_minutes: int,
                 rise_pct: float) -> tuple[np.ndarray, np.ndarray]:
    """Features at each minute of simulated history and whether the price rose rise_pct within the horizon."""
    rows, labels = [], []
    span = lookback(feature_names) + timedelta(minutes=2)
    for mint in demo_mints(seed, TRAINING_MINTS, prefix="training"):
        minutes = TRAINING_HOURS * 60
        series = [metric_point(mint, TRAINING_START + timedelta(minutes=m), seed) for m in range(minutes)]
        points = [MetricPoint(p["ts"], p) for p in series]
        first = int(span.total_seconds() // 60)
        for m in range(first, minutes - horizon_minutes):
            at = series[m]["ts"]
            window = points[m - first:m + 1]
            rows.append(compute_features(feature_names, window, at, timedelta(minutes=2)))
            future = max(p["price_sol"] for p in series[m + 1:m + 1 + horizon_minutes])
            labels.append(1 if float(future) >= float(series[m]["price_sol"]) * (1 + rise_pct / 100) else 0)
    return np.array(rows, dtype=float), np.array(labels, dtype=float)


def train_model(seed: int, feature_names: list[str], horizon_minutes: int, rise_pct: float) -> bytes:
    """A binary:logistic booster (UBJSON bytes) predicting a rise of rise_pct within horizon_minutes."""
    features, labels = training_set(seed, feature_names, horizon_minutes, rise_pct)
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3, "nthread": 1, "seed": seed,
              "eval_metric": "logloss"}
    booster = xgb.train(params, xgb.DMatrix(features, label=labels, feature_names=feature_names),
                        num_boost_round=30)
    return bytes(booster.save_raw("ubj"))


def demo_models(seed: int) -> list[dict]:
    """The trigger and condition models of the demo, ready to upload."""
    return [
        {"name": "demo-momentum-5m", "feature_names": TRIGGER_FEATURES,
         "description": "Simulated market: price up 3 % within 5 minutes",
         "data": train_model(seed, TRIGGER_FEATURES, 5, 3.0)},
        {"name": "demo-trend-15m", "feature_names": CONDITION_FEATURES,
         "description": "Simulated market: price up 4 % within 15 minutes",
         "data": train_model(seed, CONDITION_FEATURES, 15, 4.0)},
    ]
