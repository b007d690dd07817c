"""Kept for bench/buy_latency.py (outside tests/): test data, models included, is built in tests/factories.py."""

from __future__ import annotations

from tests.factories import model_body, train_booster


def upload_body(name: str, feature_names: list[str], seed: int = 0) -> dict:
    """The JSON body of POST /api/models for a freshly trained model over feature_names."""
    return model_body(train_booster(len(feature_names), seed), name, feature_names=feature_names)
