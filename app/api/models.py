"""ML models: /api/models (XGBoost JSON/UBJSON uploads, never pickles) and on-demand predictions."""

from __future__ import annotations

from datetime import timedelta

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from app.api import examples
from app.api.deps import config, db, process
from app.api.fields import PointInTime
from app.api.schemas import Address, DeletedSchema
from app.ml import ModelFormat
from app.services import models as model_service

MAX_BASE64_CHARS = 30_000_000  # ~20 MiB of model bytes, with room for line breaks

blp = Blueprint("models", __name__, url_prefix="/api/models",
                description="XGBoost binary:logistic models with their ordered feature names; predictions.")


class ModelUploadSchema(Schema):
    """Body of POST /api/models."""

    name = fields.String(required=True, validate=validate.Length(min=1, max=100))
    description = fields.String(allow_none=True, validate=validate.Length(max=2000))
    feature_names = fields.List(
        fields.String(validate=validate.Length(min=1, max=100)), required=True,
        validate=validate.Length(min=1, max=500),
        metadata={"description": "Ordered, unique; e.g. price_sol, price_sol_pct_change_5m, volume_sol_sum_5m"})
    model_format = fields.String(load_default=ModelFormat.UBJSON.value,
                                 validate=validate.OneOf([f.value for f in ModelFormat]))
    model_base64 = fields.String(required=True, load_only=True, validate=validate.Length(min=1, max=MAX_BASE64_CHARS),
                                 metadata={"description": "base64 of Booster.save_raw('ubj') (or a JSON model)"})


class ModelSchema(Schema):
    """A model's metadata (the bytes are never returned)."""

    id = fields.Integer()
    name = fields.String()
    version = fields.Integer()
    description = fields.String(allow_none=True)
    feature_names = fields.List(fields.String())
    num_features = fields.Integer(allow_none=True)
    model_format = fields.String()
    sha256 = fields.String(allow_none=True)
    size_bytes = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class ModelPredictSchema(Schema):
    """Body of POST /api/models/{id}/predict."""

    mint = Address(required=True)
    timestamp = PointInTime(metadata={"description": "Point in time (default now; after 2000, not in the future)"})


class ModelPredictionSchema(Schema):
    """A model's probability for a mint and the feature vector it was computed from."""

    model_id = fields.Integer()
    mint = fields.String()
    timestamp = fields.DateTime()
    probability = fields.Float()
    features = fields.Dict(keys=fields.String(), values=fields.Float())


@blp.route("")
class Models(MethodView):
    @blp.response(200, ModelSchema(many=True))
    def get(self):
        """List models (metadata only)."""
        with db() as conn:
            return model_service.list_models(conn)

    @blp.arguments(ModelUploadSchema, example=examples.MODEL_UPLOAD)
    @blp.response(201, ModelSchema)
    def post(self, data):
        """Upload a model; the same name again stores the next version."""
        with db() as conn:
            return model_service.upload_model(conn, data)


@blp.route("/<int:model_id>")
class ModelById(MethodView):
    @blp.response(200, ModelSchema)
    @blp.alt_response(404, description="Unknown model")
    def get(self, model_id):
        """One model's metadata."""
        with db() as conn:
            return model_service.get_model(conn, model_id)

    @blp.response(200, DeletedSchema)
    @blp.alt_response(404, description="Unknown model")
    @blp.alt_response(409, description="An active BUY workflow uses the model")
    def delete(self, model_id):
        """Delete a model no active BUY workflow uses."""
        with db() as conn:
            model_service.delete_model(conn, model_id)
        return {"status": "deleted", "id": str(model_id)}


@blp.route("/<int:model_id>/predict")
class ModelPredict(MethodView):
    @blp.arguments(ModelPredictSchema, example=examples.MODEL_PREDICT)
    @blp.response(200, ModelPredictionSchema)
    @blp.alt_response(404, description="Unknown model")
    def post(self, data, model_id):
        """Predict for a mint at a point in time from its stored coin metrics (422 when data is missing/stale)."""
        with db() as conn:
            return model_service.predict(conn, model_id, data["mint"], data.get("timestamp"), process().boosters,
                                         timedelta(seconds=config().feature_max_staleness_seconds))
