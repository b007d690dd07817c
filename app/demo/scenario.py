"""The demo scenario: one TEST wallet, two demo models, one BUY and one SELL workflow.

The same request bodies are sent over HTTP by the live demo (`make run`) and through the
services by the headless demo (`python -m app demo`).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

WALLET = "demo"
START_BALANCE_SOL = Decimal("10")
ALERT_MIN_PROBABILITY = 0.5  # the simulated model server posts predictions at or above this
TICK_SECONDS = 15  # market time between two rounds of metrics and predictions


@dataclass(frozen=True)
class DemoIds:
    """What setup created."""

    trigger_model_id: int
    condition_model_id: int
    buy_workflow_id: str
    sell_workflow_id: str


def wallet_body(balance_sol: Decimal = START_BALANCE_SOL) -> dict[str, Any]:
    """The demo's paper wallet."""
    return {"alias": WALLET, "type": "TEST", "virtual_sol_balance": str(balance_sol)}


def model_body(model: dict[str, Any]) -> dict[str, Any]:
    """POST /api/models body for a trained demo model."""
    return {"name": model["name"], "description": model["description"], "feature_names": model["feature_names"],
            "model_format": "ubjson", "model_base64": base64.b64encode(model["data"]).decode()}


def buy_workflow_body(trigger_id: int, condition_id: int) -> dict[str, Any]:
    """Momentum alert at >= 65 %, confirmed by the 15-minute trend model at >= 50 %, then buy 0.5 SOL."""
    return {
        "wallet_alias": WALLET, "name": "Demo momentum buyer", "type": "BUY", "is_active": True,
        "chain": {"trigger": {"type": "prediction_alert", "model_id": trigger_id, "min_probability": 0.65},
                  "conditions": [{"type": "on_demand_prediction", "model_id": condition_id, "operator": "gte",
                                  "threshold": 0.5}]},
        "buy_amount_mode": "fixed", "buy_amount_value": 0.5, "cooldown_seconds": 60,
        "max_open_positions": 4,
    }


def sell_workflow_body() -> dict[str, Any]:
    """Stop-loss, trailing stop, a two-rung take-profit ladder and a timeout."""
    return {
        "wallet_alias": WALLET, "name": "Demo exits", "type": "SELL", "is_active": True,
        "chain": {"rules": [
            {"type": "stop_loss", "percent": -4, "from": "entry"},
            {"type": "trailing_stop", "percent": -3, "from": "peak"},
            {"type": "take_profit", "percent": 5, "sell_pct": 50},
            {"type": "take_profit", "percent": 9},
            {"type": "timeout", "minutes": 20},
        ]},
    }
