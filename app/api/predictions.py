"""Predictions: /api/predictions."""

from __future__ import annotations

from flask import jsonify, request
from flask_smorest import Blueprint, abort
from marshmallow import ValidationError

from app.api import examples
from app.api.deps import db, dispatcher
from app.api.schemas import PredictionAcceptedSchema, PredictionInSchema, PredictionSchema
from app.services import predictions as prediction_service

blp = Blueprint("predictions", __name__, url_prefix="/api/predictions",
                description="Model predictions: each POST enqueues one job evaluating the BUY workflows.")

MAX_BATCH = 1000
_BODY = {"oneOf": [{"$ref": "#/components/schemas/PredictionIn"},
                   {"type": "array", "minItems": 1, "maxItems": MAX_BATCH,
                    "items": {"$ref": "#/components/schemas/PredictionIn"}}]}
_ACCEPTED = {"oneOf": [{"$ref": "#/components/schemas/PredictionAccepted"},
                       {"type": "array", "items": {"$ref": "#/components/schemas/PredictionAccepted"}}]}


def register_spec(api) -> None:
    """Add the request and response components the hand-written requestBody and 202 refer to."""
    api.spec.components.schema("PredictionIn", schema=PredictionInSchema)
    api.spec.components.schema("PredictionAccepted", schema=PredictionAcceptedSchema)


def _parse_body() -> tuple[list[dict], bool]:
    body = request.get_json(silent=True)
    if not isinstance(body, (dict, list)):
        abort(422, message="Body must be a prediction object or a list of them.")
    many = isinstance(body, list)
    if many and not 1 <= len(body) <= MAX_BATCH:
        abort(422, errors={"json": {"_schema": [f"A batch holds 1 to {MAX_BATCH} predictions."]}})
    try:
        items = PredictionInSchema(many=many).load(body)
    except ValidationError as exc:
        abort(422, errors={"json": exc.messages})
    return (items if many else [items]), many


@blp.route("", methods=["POST"])
@blp.doc(requestBody={"required": True, "content": {"application/json": {"schema": _BODY,
                                                                          "example": examples.PREDICTION}}},
         responses={"202": {"description": "Stored and enqueued (a list for a list)",
                            "content": {"application/json": {"schema": _ACCEPTED}}}})
@blp.alt_response(409, description="A client id reused for a different prediction")
@blp.alt_response(422, description="Malformed prediction or unknown model: nothing stored or enqueued")
def post_predictions():
    """Store one prediction or a list (idempotent by `id`) and enqueue their evaluation; 202 with ids and job id."""
    items, many = _parse_body()
    with db() as conn:
        results = prediction_service.submit_predictions(conn, items, dispatcher().evaluate_predictions)
    schema = PredictionAcceptedSchema(many=many)
    return jsonify(schema.dump(results if many else results[0])), 202


@blp.route("/<uuid:prediction_id>")
@blp.response(200, PredictionSchema)
@blp.alt_response(404, description="Unknown prediction")
def get_prediction(prediction_id):
    """A prediction, its evaluation outcome per workflow, and the executions it caused."""
    with db() as conn:
        return prediction_service.get_prediction(conn, prediction_id)
