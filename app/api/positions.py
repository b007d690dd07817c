"""Positions and trades: /api/positions, /api/trades."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.api import examples
from app.api.deps import db, dispatcher, process
from app.api.schemas import (
    PositionDetailSchema,
    PositionListArgs,
    PositionSchema,
    SellRequestSchema,
    TradeListArgs,
    TradeSchema,
)
from app.services import positions as position_service

blp = Blueprint("positions", __name__, url_prefix="/api", description="Open and closed positions, trades.")


@blp.route("/positions")
class Positions(MethodView):
    @blp.arguments(PositionListArgs, location="query")
    @blp.response(200, PositionSchema(many=True))
    def get(self, args):
        """Positions, newest first; filter by wallet_alias, status (OPEN|CLOSED), mint."""
        limit = args.pop("limit")
        with db() as conn:
            return position_service.list_positions(conn, args, limit)


@blp.route("/positions/<uuid:position_id>")
@blp.response(200, PositionDetailSchema)
@blp.alt_response(404, description="Unknown position")
def get_position(position_id):
    """One position: entry, peak, last price, P&L, and its trades."""
    with db() as conn:
        return position_service.get_position(conn, position_id)


@blp.route("/positions/<uuid:position_id>/sell", methods=["POST"])
@blp.arguments(SellRequestSchema, required=False, example=examples.SELL)
@blp.response(200, PositionDetailSchema)
@blp.alt_response(404, description="Unknown position")
@blp.alt_response(409, description="Position already closed, REAL wallet, or no price")
def sell_position(data, position_id):
    """Sell pct % of the held tokens now (same locked, exactly-once path as rule exits)."""
    with db() as conn:
        deps = process().sell_deps(conn, dispatcher())
        return position_service.sell_position(conn, position_id, data["pct"], deps)


@blp.route("/trades")
@blp.arguments(TradeListArgs, location="query")
@blp.response(200, TradeSchema(many=True))
def trades(args):
    """Trades, newest first; filter by wallet_alias, mint."""
    limit = args.pop("limit")
    with db() as conn:
        return position_service.list_trades(conn, args, limit)
