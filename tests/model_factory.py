"""Tiny real XGBoost models for tests (trained in a few milliseconds on seeded data)."""

from __future__ import annotations

import base64

import numpy as np
import xgboost as xgb


def train_model_bytes(num_features: int, seed: int = 0, fmt: str = "ubj") -> bytes:
    """A binary:logistic booster over num_features inputs, saved as UBJSON (or JSON)."""
    rng = np.random.default_rng(seed)
    features = rng.normal(size=(200, num_features))
    labels = (features[:, 0] + 0.3 * rng.normal(size=200) > 0).astype(int)
    booster = xgb.train({"objective": "binary:logistic", "max_depth": 2, "nthread": 1},
                        xgb.DMatrix(features, label=labels), num_boost_round=5)
    return bytes(booster.save_raw(fmt))


def upload_body(name: str, feature_names: list[str], seed: int = 0) -> dict:
    """The JSON body of POST /api/models for a freshly trained model."""
    data = train_model_bytes(len(feature_names), seed)
    return {"name": name, "feature_names": feature_names, "model_format": "ubjson",
            "model_base64": base64.b64encode(data).decode()}
