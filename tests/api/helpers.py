"""Request bodies and small helpers shared by the API tests."""

from __future__ import annotations

from typing import Any


def buy_body(trigger_model: int, condition_models: tuple[int, ...] = (), **overrides: Any) -> dict[str, Any]:
    """A valid BUY workflow body for wallet 'w1'."""
    body = {
        "wallet_alias": "w1",
        "name": "Aggressive Buy Bot",
        "type": "BUY",
        "chain": {
            "trigger": {"type": "prediction_alert", "model_id": trigger_model, "min_probability": 0.7},
            "conditions": [
                {"type": "on_demand_prediction", "model_id": m, "operator": "gte", "threshold": 0.6}
                for m in condition_models
            ],
        },
        "buy_amount_mode": "fixed",
        "buy_amount_value": 0.05,
    }
    body.update(overrides)
    return body


def sell_body(**overrides: Any) -> dict[str, Any]:
    """A valid SELL workflow body (seed 000's four rules) for wallet 'w1'."""
    body = {
        "wallet_alias": "w1",
        "name": "Exit rules",
        "type": "SELL",
        "chain": {"rules": [
            {"type": "stop_loss", "percent": -5.0, "from": "entry"},
            {"type": "trailing_stop", "percent": -3.0, "from": "peak"},
            {"type": "take_profit", "percent": 20.0},
            {"type": "timeout", "minutes": 30},
        ]},
    }
    body.update(overrides)
    return body


def error_fields(response) -> dict[str, Any]:
    """The per-field errors of a 422 body (flask-smorest envelope, json location)."""
    return response.get_json()["errors"]["json"]


def count(conn, table: str) -> int:
    """Rows in a table."""
    return conn.execute(f"SELECT count(*) AS n FROM {table}").fetchone()["n"]
