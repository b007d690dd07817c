"""Performance reports: /api/wallets/{alias}/performance, /api/buy/workflows/{workflow_id}/performance."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.api.deps import db
from app.api.schemas import PerformanceArgs, PerformanceSchema
from app.services import reports as report_service

blp = Blueprint("performance", __name__, url_prefix="/api",
                description="Realised performance of closed positions: P&L, win rate, drawdown, exits by rule.")


@blp.route("/wallets/<string:alias>/performance")
@blp.arguments(PerformanceArgs, location="query")
@blp.response(200, PerformanceSchema)
@blp.alt_response(404, description="Unknown wallet")
def wallet_performance(args, alias):
    """A wallet's performance over its positions closed in [from, to)."""
    with db() as conn:
        return report_service.wallet_performance(conn, alias, args.get("from_"), args.get("to"))


@blp.route("/buy/workflows/<uuid:workflow_id>/performance")
@blp.arguments(PerformanceArgs, location="query")
@blp.response(200, PerformanceSchema)
@blp.alt_response(404, description="Unknown workflow")
def workflow_performance(args, workflow_id):
    """A BUY workflow's performance over the positions it opened, closed in [from, to)."""
    with db() as conn:
        return report_service.workflow_performance(conn, workflow_id, args.get("from_"), args.get("to"))
