"""Backtests: POST /api/backtests (202, run by an RQ job), GET /api/backtests/{backtest_id}."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate

from app.api.deps import config, db, dispatcher
from app.api.schemas import SolAmount, WalletLimitsSchema, WorkflowCreateSchema
from app.services import backtests as backtest_service

blp = Blueprint("backtests", __name__, url_prefix="/api",
                description="Replay stored predictions and prices through the live engines on a simulated clock.")

PRICES = ("metrics", "recorded")
EXAMPLE = {
    "buy": {"chain": {"trigger": {"type": "prediction_alert", "model_id": 1, "min_probability": 0.5},
                      "conditions": []}, "buy_amount_mode": "fixed", "buy_amount_value": "0.05"},
    "sell": {"chain": {"rules": [{"type": "stop_loss", "percent": -5}, {"type": "timeout", "minutes": 30}]}},
    "from": "2026-11-21T09:00:00Z", "to": "2026-11-21T11:00:00Z", "start_balance_sol": "10", "prices": "metrics"}


class WorkflowRef(fields.Field):
    """A workflow id, or an inline workflow body (as POST /api/buy/workflows takes it, without wallet_alias)."""

    def __init__(self, kind: str, **kwargs: Any):
        self.kind = kind
        super().__init__(required=True, metadata={
            "oneOf": [{"type": "string", "format": "uuid"}, {"type": "object"}],
            "description": f"A {kind.upper()} workflow's id, or an inline {kind.upper()} workflow: "
                           "{name?, chain, buy_amount_mode?, buy_amount_value?, ...} checked as the workflow API"},
            **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> UUID | dict[str, Any]:
        if isinstance(value, str):
            try:
                return UUID(value)
            except ValueError:
                raise ValidationError("Not a workflow id.") from None
        if not isinstance(value, dict):
            raise ValidationError("A workflow id or a workflow object.")
        body = {"name": f"backtest {self.kind}", **value, "type": self.kind.upper(), "wallet_alias": "backtest"}
        return WorkflowCreateSchema().load(body)


class BacktestCreateSchema(Schema):
    """Body of POST /api/backtests."""

    buy = WorkflowRef("buy")
    sell = WorkflowRef("sell")
    from_ = fields.AwareDateTime(data_key="from", required=True, format="iso",
                                 metadata={"description": "Start of the replayed period; before to"})
    to = fields.AwareDateTime(required=True, format="iso", metadata={
        "description": "End of the replayed period (at most BACKTEST_MAX_DAYS after from)"})
    start_balance_sol = SolAmount(positive=True, load_default="10")
    prices = fields.String(load_default="metrics", validate=validate.OneOf(PRICES), metadata={
        "description": "metrics: stored coin metrics' price_sol; recorded: prices the live engine decided on"})
    wallet = fields.Nested(WalletLimitsSchema, load_default=dict, metadata={
        "description": "The backtest wallet's limits and breaker threshold, as PATCH /api/wallets/{alias} takes "
                       "them (default: a new wallet's)"})


class BacktestSchema(Schema):
    """A backtest: status, progress and, when DONE, its summary, trades and equity curve."""

    id = fields.UUID()
    status = fields.String(metadata={"enum": ["QUEUED", "RUNNING", "DONE", "FAILED"]})
    progress = fields.Float(metadata={"description": "Percent of the period walked"})
    request = fields.Dict(metadata={"description": "The request, with both workflows as bodies"})
    summary = fields.Dict(allow_none=True, metadata={"description": "The performance figures (as the reports)"})
    trades = fields.List(fields.Dict(), allow_none=True, metadata={
        "description": "Every position: its buy's steps, its sells with their rule, P&L"})
    equity = fields.List(fields.Dict(), allow_none=True, metadata={"description": "Equity after each closed trade"})
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)


@blp.route("/backtests", methods=["POST"])
@blp.arguments(BacktestCreateSchema, example=EXAMPLE)
@blp.response(202, BacktestSchema)
@blp.alt_response(404, description="Unknown workflow or model")
def create_backtest(data):
    """Queue a backtest over stored predictions and a price history; poll GET /api/backtests/{id}."""
    with db() as conn:
        return backtest_service.create_backtest(conn, data, config(), dispatcher())


@blp.route("/backtests/<uuid:backtest_id>")
@blp.response(200, BacktestSchema)
@blp.alt_response(404, description="Unknown backtest")
def get_backtest(backtest_id):
    """A backtest's status, progress and result."""
    with db() as conn:
        return backtest_service.get_backtest(conn, backtest_id)
