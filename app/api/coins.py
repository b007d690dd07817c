"""Coin metrics: /api/coins/{mint} and /api/coins/{mint}/metrics."""

from __future__ import annotations

from decimal import Decimal

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.api import examples
from app.api.deps import db
from app.api.fields import DecimalInput, PointInTime
from app.api.schemas import MAX_INT4
from app.services import coin_metrics as coin_service

MAX_POINTS_PER_POST = 5000

blp = Blueprint("coins", __name__, url_prefix="/api/coins",
                description="Time-stamped per-mint metrics (price in SOL, volumes, …) that model features read.")


class PlainDecimal(fields.Decimal):
    """Decimal out as a plain string without trailing zeros ("0.0000015", "1000")."""

    def __init__(self, **kwargs):
        kwargs.setdefault("as_string", True)
        super().__init__(**kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        return format(Decimal(value).normalize(), "f")


def _metric(places: int, integer_digits: int, positive: bool = False, **kwargs) -> DecimalInput:
    """A metric value: number or plain decimal string, >= 0 (> 0 if positive), fitting its NUMERIC column."""
    return DecimalInput(places=places, digits=integer_digits, positive=positive,
                        metadata={"description": f"SOL value, at most {places} decimals"}, **kwargs)


def _count(**kwargs) -> fields.Integer:
    return fields.Integer(strict=True, allow_none=True, validate=validate.Range(min=0, max=MAX_INT4), **kwargs)


class CoinMetricInSchema(Schema):
    """One posted point; ts needs a timezone, price_sol is required, the rest may be omitted or null."""

    ts = PointInTime(required=True, metadata={"description": "Timezone required; after 2000, not in the future"})
    price_sol = _metric(18, 20, positive=True, required=True)
    volume_sol = _metric(9, 21, allow_none=True)
    buy_volume_sol = _metric(9, 21, allow_none=True)
    sell_volume_sol = _metric(9, 21, allow_none=True)
    market_cap_sol = _metric(9, 21, allow_none=True)
    liquidity_sol = _metric(9, 21, allow_none=True)
    trades = _count()
    holders = _count()


class CoinMetricsPostSchema(Schema):
    """Body of POST /api/coins/{mint}/metrics."""

    decimals = fields.Integer(strict=True, validate=validate.Range(min=0, max=18),
                              metadata={"description": "The mint's token decimals (recorded once known)"})
    symbol = fields.String(validate=validate.Length(min=1, max=32))
    metrics = fields.List(fields.Nested(CoinMetricInSchema), required=True,
                          validate=validate.Length(min=1, max=MAX_POINTS_PER_POST))

    @validates_schema
    def _unique_timestamps(self, data, **kwargs):
        seen: set = set()
        duplicates = {}
        for index, point in enumerate(data.get("metrics", [])):
            if point["ts"] in seen:
                duplicates[index] = {"ts": ["Duplicate timestamp in this batch."]}
            seen.add(point["ts"])
        if duplicates:
            raise ValidationError({"metrics": duplicates})


class CoinMetricSchema(Schema):
    """A stored point; decimal values are strings."""

    ts = fields.DateTime()
    price_sol = PlainDecimal()
    volume_sol = PlainDecimal(allow_none=True)
    buy_volume_sol = PlainDecimal(allow_none=True)
    sell_volume_sol = PlainDecimal(allow_none=True)
    market_cap_sol = PlainDecimal(allow_none=True)
    liquidity_sol = PlainDecimal(allow_none=True)
    trades = fields.Integer(allow_none=True)
    holders = fields.Integer(allow_none=True)


class CoinMetricsStoredSchema(Schema):
    """Result of an ingest."""

    mint = fields.String()
    stored = fields.Integer()
    decimals = fields.Integer(allow_none=True)


class CoinSchema(Schema):
    """What is known about a mint."""

    mint = fields.String()
    decimals = fields.Integer(allow_none=True)
    symbol = fields.String(allow_none=True)
    latest = fields.Nested(CoinMetricSchema, allow_none=True)


class CoinMetricsArgs(Schema):
    """?from=&to=&limit= of GET /api/coins/{mint}/metrics: points with ts in (from, to]."""

    from_ = fields.AwareDateTime(data_key="from", format="iso", metadata={"description": "Exclusive lower bound"})
    to = fields.AwareDateTime(format="iso", metadata={
        "description": "Inclusive upper bound (default now: points dated in the future show only when to is later)"})
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=MAX_POINTS_PER_POST))


class CoinMetricsDeleteArgs(Schema):
    """?from=&to= of DELETE /api/coins/{mint}/metrics: the points with ts in (from, to]."""

    from_ = fields.AwareDateTime(data_key="from", format="iso", metadata={"description": "Exclusive lower bound"})
    to = fields.AwareDateTime(required=True, format="iso", metadata={
        "description": "Inclusive upper bound (a far one, e.g. 9999-12-31T00:00:00Z, reaches mis-dated points)"})


class CoinMetricsDeletedSchema(Schema):
    """Result of a deletion of points."""

    mint = fields.String()
    deleted = fields.Integer()


@blp.route("/<address:mint>/metrics")
class CoinMetrics(MethodView):
    @blp.arguments(CoinMetricsArgs, location="query")
    @blp.response(200, CoinMetricSchema(many=True))
    @blp.alt_response(422, description="Not a mint address, or bad query")
    def get(self, args, mint):
        """A mint's points with ts in (from, to], newest first."""
        with db() as conn:
            return coin_service.list_metrics(conn, mint, args.get("from_"), args.get("to"), args["limit"])

    @blp.arguments(CoinMetricsPostSchema, example=examples.COIN_METRICS)
    @blp.response(201, CoinMetricsStoredSchema)
    @blp.alt_response(422, description="Invalid point or mint; nothing is stored")
    def post(self, data, mint):
        """Store 1..5000 points (a point at an already stored ts replaces it), all or nothing."""
        with db() as conn:
            return coin_service.ingest_metrics(conn, mint, data)

    @blp.arguments(CoinMetricsDeleteArgs, location="query")
    @blp.response(200, CoinMetricsDeletedSchema)
    @blp.alt_response(422, description="Not a mint address, or neither from nor to given")
    def delete(self, args, mint):
        """Delete a mint's points with ts in (from, to], e.g. mis-dated ones (from=<now> deletes future points)."""
        with db() as conn:
            return coin_service.delete_metrics(conn, mint, args.get("from_"), args.get("to"))


@blp.route("/<address:mint>")
class Coin(MethodView):
    @blp.response(200, CoinSchema)
    @blp.alt_response(404, description="Nothing known about the mint")
    def get(self, mint):
        """A mint's decimals, symbol and newest stored metric."""
        with db() as conn:
            return coin_service.get_coin(conn, mint)
