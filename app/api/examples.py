"""Request examples the OpenAPI document shows (and API fuzzers send first): each one is accepted as it is
by a service holding a TEST wallet `paper`, model 1 (over `price_sol`) and recent metrics of EXAMPLE_MINT."""

from __future__ import annotations

import base64
import json

EXAMPLE_MINT = "7GCihgDB8fe6KNjn2MYtkzZcRjQy3t9GHdC8uHYmW2hr"

# The smallest XGBoost binary:logistic model over one feature (one leaf: always 50 %), as xgboost 3 saves JSON.
_TINY_MODEL = {"learner": {
    "attributes": {}, "feature_names": [], "feature_types": [],
    "gradient_booster": {"model": {
        "cats": {"enc": [], "feature_segments": [], "sorted_idx": []},
        "gbtree_model_param": {"num_parallel_tree": "1", "num_trees": "1"},
        "iteration_indptr": [0, 1], "tree_info": [0],
        "trees": [{"base_weights": [0.0], "categories": [], "categories_nodes": [], "categories_segments": [],
                   "categories_sizes": [], "default_left": [0], "id": 0, "left_children": [-1],
                   "loss_changes": [0.0], "parents": [2147483647], "right_children": [-1],
                   "split_conditions": [0.0], "split_indices": [0], "split_type": [0], "sum_hessian": [1.0],
                   "tree_param": {"num_deleted": "0", "num_feature": "1", "num_nodes": "1",
                                  "size_leaf_vector": "1"}}]},
        "name": "gbtree"},
    "learner_model_param": {"base_score": "[5E-1]", "boost_from_average": "0", "num_class": "0",
                            "num_feature": "1", "num_target": "1"},
    "objective": {"name": "binary:logistic", "reg_loss_param": {"scale_pos_weight": "1"}}},
    "version": [3, 2, 0]}

WALLET = {"alias": "paper-2", "virtual_sol_balance": "5", "max_buys_per_day": 20, "breaker_losing_sells": 3}
WALLET_PATCH = {"top_up_sol": "1.5"}
BUY_WORKFLOW = {
    "wallet_alias": "paper", "name": "Aggressive Buy Bot", "type": "BUY",
    "chain": {"trigger": {"type": "prediction_alert", "model_id": 1, "min_probability": 0.7},
              "conditions": [{"type": "on_demand_prediction", "model_id": 1, "operator": "gte", "threshold": 0.6}]},
    "buy_amount_mode": "fixed", "buy_amount_value": 0.05, "cooldown_seconds": 60, "max_open_positions": 5}
WORKFLOW_PATCH = {"name": "Renamed", "cooldown_seconds": 120}
PREDICTION = {"id": "alert-1", "mint": EXAMPLE_MINT, "model_id": 1, "probability": 0.82, "tag": "pump",
              "timestamp": "2026-11-21T10:00:00Z"}
COIN_METRICS = {"decimals": 6, "symbol": "EX", "metrics": [
    {"ts": "2026-11-21T10:00:00Z", "price_sol": "0.000120", "volume_sol": "12.5"},
    {"ts": "2026-11-21T10:05:00Z", "price_sol": "0.000123", "volume_sol": "8.1"}]}
MODEL_UPLOAD = {"name": "always-half", "feature_names": ["price_sol"], "model_format": "json",
                "model_base64": base64.b64encode(json.dumps(_TINY_MODEL).encode()).decode()}
MODEL_PREDICT = {"mint": EXAMPLE_MINT}
SELL = {"pct": 50}
