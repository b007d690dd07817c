"""Building blocks for BUY engine tests: a wallet, models, a workflow, a mint and a stored prediction."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.pricing.sources import FixedPriceSource, PriceUnavailable
from app.services import workflows as workflow_service
from app.services.buy_engine import BuyDeps

MINT = "7GCihgDB8fe6KNjn2MYtkzZcRjQy3t9GHdC8uHYmW2hr"
OTHER_MINT = "EKpQGSJtjMFqKZ9KQanSqYXRcF8fBopzLHYxdM65zcjm"


def buy_workflow(conn, trigger: int, conditions: tuple[tuple[int, str, float], ...] = (), **settings: Any) -> dict:
    """Create and activate a BUY workflow on wallet 'w1'."""
    body = {
        "wallet_alias": "w1", "name": settings.pop("name", "buy"), "type": "BUY",
        "chain": {"trigger": {"type": "prediction_alert", "model_id": trigger, "min_probability": 0.7},
                  "conditions": [{"type": "on_demand_prediction", "model_id": m, "operator": op, "threshold": t}
                                 for m, op, t in conditions]},
        "buy_amount_mode": "fixed", "buy_amount_value": Decimal("0.05"), **settings,
    }
    created = workflow_service.create_workflow(conn, body)
    return workflow_service.set_active(conn, created["id"], True)


def set_decimals(conn, mint: str = MINT, decimals: int = 6) -> None:
    conn.execute("INSERT INTO mints (mint, decimals) VALUES (%s, %s) ON CONFLICT (mint) DO UPDATE "
                 "SET decimals = EXCLUDED.decimals", (mint, decimals))


def store_prediction(conn, model_id: int, probability: float, mint: str = MINT, client_id: str | None = None):
    """Insert a PENDING prediction directly; returns its id."""
    return conn.execute(
        """INSERT INTO predictions (client_id, mint, model_id, probability, predicted_at)
           VALUES (%s, %s, %s, %s, %s) RETURNING id""",
        (client_id, mint, model_id, probability, datetime.now(UTC))).fetchone()["id"]


class Predictor:
    """Model probabilities the test decides (the model layer is tested on its own); records calls."""

    def __init__(self, probabilities: dict[int, float | Exception]):
        self.probabilities = probabilities
        self.calls: list[int] = []

    def __call__(self, conn, model_id: int, mint: str, at: datetime) -> float:
        self.calls.append(model_id)
        value = self.probabilities[model_id]
        if isinstance(value, Exception):
            raise value
        return value


def fixed_price(price: Decimal | None) -> FixedPriceSource:
    """A price source quoting `price` SOL per whole token (None: no price)."""
    def price_of(mint: str):
        if price is None:
            raise PriceUnavailable("test source has no price")
        return price, {}
    return FixedPriceSource("test", price_of)


def deps(predictor: Predictor | None = None, price: Decimal | None = Decimal("0.0001"), fee_bps: int = 30,
         opened: list | None = None) -> BuyDeps:
    return BuyDeps(price_source=fixed_price(price), predict=predictor or Predictor({}), fee_bps=fee_bps,
                   on_position_opened=(opened.append if opened is not None else (lambda _: None)))
