"""Orders: /api/orders (every trade's order; REAL ones with their chain state)."""

from __future__ import annotations

from flask_smorest import Blueprint

from app.api.deps import db
from app.api.schemas import OrderListArgs, OrderSchema
from app.services import orders as order_service

blp = Blueprint("orders", __name__, url_prefix="/api", description="Orders: paper fills and on-chain swaps.")


@blp.route("/orders")
@blp.arguments(OrderListArgs, location="query")
@blp.response(200, OrderSchema(many=True))
@blp.alt_response(404, description="Unknown wallet")
def list_orders(args):
    """Orders, newest first; filter by wallet_alias and state (PENDING|SENT|FILLED|FAILED|EXPIRED)."""
    limit = args.pop("limit")
    with db() as conn:
        return order_service.list_orders(conn, args, limit)


@blp.route("/orders/<uuid:order_id>")
@blp.response(200, OrderSchema)
@blp.alt_response(404, description="Unknown order")
def get_order(order_id):
    """One order: state, amounts (quoted and actual), network fee, rent, signature, error."""
    with db() as conn:
        return order_service.get_order(conn, order_id)
