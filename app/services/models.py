"""Model use cases: upload (validated, versioned by name), read, delete, predict for a mint."""

from __future__ import annotations

import base64
import binascii
import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from psycopg import Connection

from app.core.chains import MAX_MODEL_ID, FieldPath
from app.core.features import FeatureDataError, UnknownFeature, parse_feature_name
from app.errors import Conflict, Invalid, NotFound
from app.ml import BoosterCache, FeatureCountMismatch, FormatMismatch, predict_probability, validate_model_bytes
from app.repos import models as model_repo
from app.services import coin_metrics as coin_service
from app.services.coin_metrics import require_mint_address

DEFAULT_FEATURE_MAX_STALENESS = timedelta(minutes=5)  # FEATURE_MAX_STALENESS_SECONDS in config
MAX_MODEL_BYTES = 20 * 1024 * 1024


def upload_model(conn: Connection, data: dict[str, Any]) -> dict[str, Any]:
    """Validate and store an XGBoost model as the next version of its name; returns its metadata."""
    names, model_format = list(data["feature_names"]), data.get("model_format", "ubjson")
    problems = _feature_name_problems(names)
    raw = _decode_model(data["model_base64"], problems)
    if problems:
        raise Invalid.from_paths(problems)
    num_features = _validated_num_features(raw, model_format, names)
    values = {"name": data["name"], "description": data.get("description"), "model_format": model_format,
              "feature_names": names, "num_features": num_features, "model_data": raw,
              "sha256": hashlib.sha256(raw).hexdigest()}
    with conn.transaction():
        return model_repo.insert_next_version(conn, values)


def _feature_name_problems(names: Sequence[str]) -> dict[FieldPath, list[str]]:
    problems: dict[FieldPath, list[str]] = {}
    seen: set[str] = set()
    for index, name in enumerate(names):
        try:
            parse_feature_name(name)
        except UnknownFeature as exc:
            problems[("feature_names", index)] = [str(exc)]
        if name in seen:
            problems.setdefault(("feature_names", index), []).append(f"Duplicate feature name {name!r}.")
        seen.add(name)
    return problems


def _decode_model(text: str, problems: dict[FieldPath, list[str]]) -> bytes:
    try:
        raw = base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError):
        problems[("model_base64",)] = ["Not valid base64."]
        return b""
    if not raw:
        problems[("model_base64",)] = ["The model is empty."]
    elif len(raw) > MAX_MODEL_BYTES:
        problems[("model_base64",)] = [f"The model is {len(raw)} bytes; at most {MAX_MODEL_BYTES} are accepted."]
    return raw


def _validated_num_features(raw: bytes, model_format: str, names: list[str]) -> int:
    try:
        return validate_model_bytes(raw, model_format, names)
    except FeatureCountMismatch as exc:
        raise Invalid.from_paths({("feature_names",): [str(exc)]}) from None
    except FormatMismatch as exc:
        raise Invalid.from_paths({("model_format",): [str(exc)]}) from None
    except ValueError as exc:
        raise Invalid.from_paths({("model_base64",): [str(exc)]}) from None


def list_models(conn: Connection) -> list[dict[str, Any]]:
    """Every model's metadata (never the bytes)."""
    return model_repo.list_all(conn)


def get_model(conn: Connection, model_id: int) -> dict[str, Any]:
    """One model's metadata, or NotFound."""
    model = model_repo.get(conn, model_id) if 0 < model_id <= MAX_MODEL_ID else None
    if model is None:
        raise NotFound(f"Model {model_id} not found.")
    return model


def delete_model(conn: Connection, model_id: int) -> None:
    """Delete a model unless an active BUY workflow references it (Conflict); inactive ones do not block."""
    with conn.transaction():
        if not (0 < model_id <= MAX_MODEL_ID and model_repo.lock_for_delete(conn, model_id)):
            raise NotFound(f"Model {model_id} not found.")
        users = model_repo.active_workflows_using(conn, model_id)
        if users:
            listed = ", ".join(f"{w['name']!r} ({w['id']})" for w in users)
            raise Conflict(f"Model {model_id} is used by active BUY workflow(s) {listed}: deactivate them first.")
        model_repo.delete(conn, model_id)


def predict_for_mint(
    conn: Connection, model_id: int, mint: str, at: datetime, cache: BoosterCache,
    max_staleness: timedelta = DEFAULT_FEATURE_MAX_STALENESS,
) -> tuple[float, dict[str, float]]:
    """The model's probability for a mint at `at` and the feature values it used (point-in-time).

    Raises NotFound for an unknown model and FeatureDataError when the stored metrics cannot give the features.
    """
    model = cache.metadata(model_id, lambda: get_model(conn, model_id))
    names = model["feature_names"]
    values = coin_service.features_for(conn, mint, names, at, max_staleness)
    booster = cache.get(model_id, model["sha256"], lambda: _stored_bytes(conn, model_id))
    return predict_probability(booster, values), dict(zip(names, values, strict=True))


def _stored_bytes(conn: Connection, model_id: int) -> bytes:
    raw = model_repo.model_bytes(conn, model_id)
    if raw is None:
        raise NotFound(f"Model {model_id} not found (or has no stored bytes).")
    return raw


def predict(
    conn: Connection, model_id: int, mint: str, at: datetime | None, cache: BoosterCache,
    max_staleness: timedelta = DEFAULT_FEATURE_MAX_STALENESS,
) -> dict[str, Any]:
    """The predict endpoint: probability and features for a mint at `at` (default now); data problems are Invalid."""
    require_mint_address(mint, location="json")
    at = at or datetime.now(UTC)
    get_model(conn, model_id)  # NotFound once deleted, whatever this process cached
    try:
        probability, features = predict_for_mint(conn, model_id, mint, at, cache, max_staleness)
    except (FeatureDataError, UnknownFeature) as exc:
        raise Invalid(str(exc), {"json": {"mint": [str(exc)]}}) from None
    return {"model_id": model_id, "mint": mint, "timestamp": at, "probability": probability, "features": features}
