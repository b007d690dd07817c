"""The emergency stop: /api/trading."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.api.deps import config, db, dispatcher
from app.services import trading as trading_service

blp = Blueprint("trading", __name__, url_prefix="/api/trading",
                description="Emergency stop: halt every buy (and optionally sells) at once, and resume.")

SELLS = (trading_service.SELLS_CONTINUE, trading_service.SELLS_HALT)


class HaltSchema(Schema):
    """Body of POST /api/trading/halt."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "Why trading stops (shown in every rejected buy's halt_check)"})
    sells = fields.String(load_default=trading_service.SELLS_CONTINUE, validate=validate.OneOf(SELLS), metadata={
        "description": "continue: sell rules keep protecting open positions; halt: no sell either"})


class TradingStatusSchema(Schema):
    """Whether trading is halted."""

    halted = fields.Boolean()
    sells = fields.String(metadata={"description": "continue or halt"})
    source = fields.String(allow_none=True, metadata={
        "description": "api (POST /api/trading/halt) or config (TRADING_HALTED=1 or all); null when not halted"})
    reason = fields.String(allow_none=True)
    halted_at = fields.DateTime(allow_none=True)
    halted_by = fields.String(allow_none=True, metadata={"description": "The API key that halted"})


def _key_name() -> str | None:
    key = g.get("api_key") or {}
    return key.get("name")


@blp.route("/status")
class TradingStatus(MethodView):
    @blp.response(200, TradingStatusSchema)
    def get(self):
        """Whether trading is halted, why and since when."""
        with db() as conn:
            return trading_service.status(conn, config().trading_halted, config().trading_halted_sells)


@blp.route("/halt")
class TradingHalt(MethodView):
    @blp.arguments(HaltSchema, example={"reason": "market crash", "sells": "continue"})
    @blp.response(200, TradingStatusSchema)
    def post(self, data):
        """Halt trading: once this answers, no buy is written; sells go on unless "sells": "halt"."""
        with db() as conn:
            return trading_service.halt(conn, data["reason"], data["sells"], _key_name(), config().trading_halted,
                                        dispatcher(), config().trading_halted_sells)


@blp.route("/resume")
class TradingResume(MethodView):
    @blp.response(200, TradingStatusSchema)
    def post(self):
        """Lift the halt (TRADING_HALTED, when set in the environment, still halts buys, and sells when `all`)."""
        with db() as conn:
            return trading_service.resume(conn, _key_name(), config().trading_halted, dispatcher(),
                                          config().trading_halted_sells)
