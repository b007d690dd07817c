"""Models API (/api/models): real XGBoost uploads, point-in-time predictions, guarded deletes."""

from __future__ import annotations

import base64
import hashlib
import pickle
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
import xgboost as xgb

from app.core.features import FeatureDataError
from app.errors import NotFound
from app.ml import BoosterCache
from app.services.models import predict_for_mint
from tests.assertions import count, error_fields
from tests.factories import MINT, MODEL_FEATURES, buy_body, metric_point, model_body, train_booster

T = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def booster() -> xgb.Booster:
    return train_booster()


def upload(client, body) -> dict:
    response = client.post("/api/models", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def store_metrics(client, points: list[tuple[datetime, str, str]]) -> None:
    metrics = [metric_point(ts, price, volume_sol=volume) for ts, price, volume in points]
    response = client.post(f"/api/coins/{MINT}/metrics", json={"decimals": 6, "metrics": metrics})
    assert response.status_code == 201, response.get_json()


def at(minutes: float) -> datetime:
    return T + timedelta(minutes=minutes)


# Hand-computed at T: price 3; pct change since T-5m (price 2) = +50 %; volume over (T-5m, T] = 3 + 0.5.
HISTORY = [(at(-10), "1", "2"), (at(-5), "2", "1"), (at(-2), "2.5", "3"), (at(0), "3", "0.5"),
           (at(1), "100", "1000")]  # the last one is after T: a look-ahead trap
EXPECTED_AT_T = {"price_sol": 3.0, "price_sol_pct_change_5m": 50.0, "volume_sol_sum_5m": 3.5}


def test_upload_returns_metadata_never_the_bytes_and_versions_by_name(client, booster):
    body = model_body(booster)
    first = upload(client, body)
    raw = base64.b64decode(body["model_base64"])
    assert first == {"id": first["id"], "name": "pump", "version": 1, "description": "test model",
                     "feature_names": MODEL_FEATURES, "num_features": 3, "model_format": "ubjson",
                     "sha256": hashlib.sha256(raw).hexdigest(), "size_bytes": len(raw),
                     "created_at": first["created_at"]}
    second = upload(client, model_body(booster, fmt="json"))
    assert (second["name"], second["version"], second["model_format"]) == ("pump", 2, "json")
    assert upload(client, model_body(booster, name="other", description=None))["version"] == 1
    listed = client.get("/api/models").get_json()
    assert [(m["name"], m["version"]) for m in listed] == [("other", 1), ("pump", 1), ("pump", 2)]
    assert all("model_base64" not in m and "model_data" not in m for m in listed)
    assert client.get(f"/api/models/{first['id']}").get_json() == first
    assert client.get("/api/models/999999").status_code == 404
    assert client.get(f"/api/models/{2**63}").status_code == 404


@pytest.mark.parametrize("overrides, field", [
    ({"model_base64": "not base64 at all!"}, "model_base64"),
    ({"model_base64": ""}, "model_base64"),
    ({"model_base64": base64.b64encode(b"{ garbage").decode()}, "model_base64"),
    ({"model_base64": base64.b64encode(b"\x00\x01 random").decode()}, "model_base64"),
    ({"feature_names": ["price_sol", "volume_sol_sum_5m"]}, "feature_names"),  # model takes 3
    ({"feature_names": ["price_sol", "price_sol", "volume_sol_sum_5m"]}, "feature_names"),
    ({"feature_names": ["price_sol", "rsi_14", "volume_sol_sum_5m"]}, "feature_names"),
    ({"feature_names": []}, "feature_names"),
    ({"feature_names": "price_sol"}, "feature_names"),
    ({"model_format": "pickle"}, "model_format"),
    ({"model_format": "json"}, "model_format"),  # the bytes are UBJSON
    ({"name": ""}, "name"),
    ({"name": "x" * 101}, "name"),
    ({"weights": [1, 2]}, "weights"),
])
def test_invalid_upload_is_422_naming_the_field_and_stores_nothing(client, conn, booster, overrides, field):
    response = client.post("/api/models", json=model_body(booster, **overrides))
    assert response.status_code == 422, response.get_json()
    assert field in error_fields(response)
    assert field in response.get_json()["message"]
    assert count(conn, "ml_models") == 0


def test_only_binary_logistic_models_are_accepted(client, conn):
    body = model_body(train_booster(objective="reg:squarederror"))
    response = client.post("/api/models", json=body)
    assert response.status_code == 422
    assert "binary:logistic" in error_fields(response)["model_base64"][0]
    assert count(conn, "ml_models") == 0


class _Trap:
    """Unpickling this creates a marker file."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_is_refused_without_being_unpickled(client, conn, tmp_path):
    marker = tmp_path / "unpickled"
    payload = base64.b64encode(pickle.dumps(_Trap(str(marker)))).decode()
    response = client.post("/api/models", json={"name": "evil", "feature_names": ["price_sol"],
                                                "model_base64": payload})
    assert response.status_code == 422
    assert "pickle" in error_fields(response)["model_base64"][0]
    assert not marker.exists()
    assert count(conn, "ml_models") == 0


def predict(client, model_id, **body):
    return client.post(f"/api/models/{model_id}/predict", json={"mint": MINT, **body})


def test_predict_uses_point_in_time_features_and_the_models_own_probability(client, booster):
    model_id = upload(client, model_body(booster))["id"]
    store_metrics(client, HISTORY)
    response = predict(client, model_id, timestamp=T.isoformat())
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["features"] == EXPECTED_AT_T
    expected = float(booster.predict(xgb.DMatrix(np.array([[3.0, 50.0, 3.5]])))[0])
    assert body["probability"] == pytest.approx(expected, abs=1e-6)
    assert 0.0 <= body["probability"] <= 1.0
    assert (body["model_id"], body["mint"], body["timestamp"]) == (model_id, MINT, "2024-05-01T12:00:00+00:00")
    json_id = upload(client, model_body(booster, fmt="json"))["id"]
    assert predict(client, json_id, timestamp=T.isoformat()).get_json()["probability"] == body["probability"]


def test_predict_for_mint_is_the_engine_entry_point(client, conn, booster):
    model_id = upload(client, model_body(booster))["id"]
    store_metrics(client, HISTORY)
    cache = BoosterCache()
    probability, features = predict_for_mint(conn, model_id, MINT, T, cache)
    assert features == EXPECTED_AT_T
    assert predict_for_mint(conn, model_id, MINT, T, cache)[0] == probability  # served from the cache
    with pytest.raises(NotFound):
        predict_for_mint(conn, model_id + 1000, MINT, T, cache)
    with pytest.raises(FeatureDataError, match="stale"):
        predict_for_mint(conn, model_id, MINT, at(7), cache)


@pytest.mark.parametrize("when, message", [
    (at(7), "stale"),  # the newest point (T+1m) is 6 minutes old
    (at(-12), "no coin metrics at or before"),
    (at(-7), "price_sol_pct_change_5m: no coin metrics at or before"),  # nothing 5 minutes before
])
def test_missing_or_stale_data_is_422_with_the_reason(client, booster, when, message):
    model_id = upload(client, model_body(booster))["id"]
    store_metrics(client, HISTORY)
    response = predict(client, model_id, timestamp=when.isoformat())
    assert response.status_code == 422
    assert message in response.get_json()["message"]


def test_predict_defaults_to_now(client, booster):
    model_id = upload(client, model_body(booster))["id"]
    now = datetime.now(UTC).replace(microsecond=0)
    store_metrics(client, [(now - timedelta(minutes=6), "1", "1"), (now - timedelta(minutes=1), "1.5", "2")])
    body = predict(client, model_id).get_json()
    assert body["features"] == {"price_sol": 1.5, "price_sol_pct_change_5m": 50.0, "volume_sol_sum_5m": 2.0}
    assert abs(datetime.fromisoformat(body["timestamp"]) - now) < timedelta(seconds=30)


def test_predict_errors(client, booster):
    model_id = upload(client, model_body(booster))["id"]
    assert predict(client, model_id + 1).status_code == 404
    assert predict(client, model_id).status_code == 422  # no metrics at all for the mint
    bad_mint = predict(client, model_id, mint="not-a-mint")
    assert bad_mint.status_code == 422 and "mint" in error_fields(bad_mint)
    naive = predict(client, model_id, timestamp="2024-05-01T12:00:00")
    assert naive.status_code == 422 and "timestamp" in error_fields(naive)


def test_delete_is_refused_while_an_active_workflow_uses_the_model(client, conn, wallet, booster):
    trigger = upload(client, model_body(booster, name="trigger"))["id"]
    condition = upload(client, model_body(booster, name="condition"))["id"]
    unused = upload(client, model_body(booster, name="unused"))["id"]
    workflow = client.post("/api/buy/workflows", json=buy_body(trigger, [(condition, "gte", 0.6)])).get_json()
    toggle = f"/api/buy/workflows/{workflow['id']}/toggle"
    assert client.patch(toggle, query_string={"active": "true"}).status_code == 200
    for model_id in (trigger, condition):
        response = client.delete(f"/api/models/{model_id}")
        assert response.status_code == 409
        assert "Aggressive Buy Bot" in response.get_json()["message"]
    assert client.delete(f"/api/models/{unused}").status_code == 200
    assert client.patch(toggle, query_string={"active": "false"}).status_code == 200
    assert client.delete(f"/api/models/{condition}").get_json() == {"status": "deleted", "id": str(condition)}
    assert client.get(f"/api/models/{condition}").status_code == 404
    assert client.delete(f"/api/models/{condition}").status_code == 404
    assert client.patch(toggle, query_string={"active": "true"}).status_code == 409  # its model is gone
    assert count(conn, "ml_models") == 1
