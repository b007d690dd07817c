"""Workflows API (SPEC §3) through the Flask test client against real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from tests.assertions import count, error_fields
from tests.factories import WALLET_ALIAS, add_execution, buy_body, sell_body, wallet_body


@pytest.fixture
def models(make_model):
    """Two models: trigger and condition."""
    return make_model("trigger"), make_model("condition")


def create(client, body, status=201):
    response = client.post("/api/buy/workflows", json=body)
    assert response.status_code == status, response.get_json()
    return response.get_json()


def test_create_buy_returns_seed_response_fields(client, wallet, models):
    body = create(client, buy_body(models[0], [(models[1], "gte", 0.6)]))
    expected_fields = {"id", "wallet_id", "wallet_alias", "name", "type", "is_active", "chain", "buy_amount_mode",
                       "buy_amount_value", "sell_amount_pct", "cooldown_seconds", "max_open_positions",
                       "created_at", "updated_at"}
    assert expected_fields <= set(body)
    assert body["wallet_id"] == str(wallet["id"]) and body["wallet_alias"] == WALLET_ALIAS
    assert body["is_active"] is False
    assert (body["cooldown_seconds"], body["max_open_positions"], body["sell_amount_pct"]) == (60, 5, 100.0)
    assert body["buy_amount_value"] == 0.05
    assert body["summary"] == f"Model #{models[0]} ≥ 70% → Model #{models[1]} ≥ 60% → Buy 0.05 SOL"
    assert body["chain"]["conditions"][0]["model_id"] == models[1]


def test_create_sell_normalises_rule_from(client, wallet):
    body = create(client, sell_body(chain={"rules": [{"type": "stop_loss", "percent": -5}]}))
    assert body["chain"] == {"rules": [{"type": "stop_loss", "percent": -5, "from": "entry"}]}
    assert body["summary"] == "SL -5%"
    assert body["buy_amount_mode"] is None


def test_unknown_wallet_is_404_and_nothing_written(client, conn, models):
    response = client.post("/api/buy/workflows", json=buy_body(models[0], wallet_alias="ghost"))
    assert response.status_code == 404
    assert "ghost" in response.get_json()["message"]
    assert count(conn, "trading_workflows") == 0


def test_unknown_model_is_404_naming_the_model(client, conn, wallet, models):
    response = client.post("/api/buy/workflows", json=buy_body(models[0], [(999, "gte", 0.6)]))
    assert response.status_code == 404
    assert "999" in response.get_json()["message"]
    assert count(conn, "trading_workflows") == 0


@pytest.mark.parametrize("overrides, field", [
    ({"type": "SELL"}, "chain"),
    ({"buy_amount_mode": None}, "buy_amount_mode"),
    ({"buy_amount_mode": "percent", "buy_amount_value": 150}, "buy_amount_value"),
    ({"buy_amount_value": 0}, "buy_amount_value"),
    ({"name": ""}, "name"),
    ({"max_open_positions": 101}, "max_open_positions"),
    ({"cooldown_seconds": -1}, "cooldown_seconds"),
    ({"sell_amount_pct": 0}, "sell_amount_pct"),
    ({"is_active": "yes"}, "is_active"),
    ({"surprise": 1}, "surprise"),
    ({"chain": {"trigger": {"type": "prediction_alert", "model_id": 1, "min_probability": 7}}}, "chain"),
])
def test_invalid_body_is_422_with_field_named_and_nothing_written(client, conn, wallet, models, overrides, field):
    response = client.post("/api/buy/workflows", json=buy_body(models[0], **overrides))
    assert response.status_code == 422
    assert field in error_fields(response)
    assert field in response.get_json()["message"]
    assert count(conn, "trading_workflows") == 0


def test_nested_chain_error_names_the_exact_path(client, wallet):
    chain = {"rules": [{"type": "take_profit", "percent": 20}, {"type": "stop_loss", "percent": 5}]}
    response = client.post("/api/buy/workflows", json=sell_body(chain=chain))
    assert response.status_code == 422
    assert "percent" in error_fields(response)["chain"]["rules"]["1"]
    assert "chain.rules[1].percent" in response.get_json()["message"]


def test_list_filters_by_wallet_and_type(client, wallet, models):
    client.post("/api/wallets", json=wallet_body("w2"))
    create(client, buy_body(models[0]))
    create(client, sell_body())
    create(client, sell_body(wallet_alias="w2"))
    assert len(client.get("/api/buy/workflows").get_json()) == 3
    assert len(client.get(f"/api/buy/workflows?wallet_alias={WALLET_ALIAS}").get_json()) == 2
    assert [w["type"] for w in client.get("/api/buy/workflows?type=SELL&wallet_alias=w2").get_json()] == ["SELL"]
    assert len(client.get("/api/buy/workflows?type=buy").get_json()) == 1
    assert client.get("/api/buy/workflows?type=HOLD").status_code == 422


def test_get_and_404(client, wallet, models):
    created = create(client, buy_body(models[0]))
    assert client.get(f"/api/buy/workflows/{created['id']}").get_json()["id"] == created["id"]
    assert client.get(f"/api/buy/workflows/{uuid.uuid4()}").status_code == 404
    assert client.get("/api/buy/workflows/not-a-uuid").status_code == 404


def test_patch_updates_fields_and_revalidates_merged_result(client, wallet, models):
    created = create(client, buy_body(models[0]))
    url = f"/api/buy/workflows/{created['id']}"
    changed = client.patch(url, json={"name": "Renamed", "buy_amount_mode": "percent", "buy_amount_value": 10,
                                      "cooldown_seconds": 0, "type": "BUY"})
    assert changed.status_code == 200
    assert (changed.get_json()["name"], changed.get_json()["summary"].endswith("Buy 10% of balance")) == (
        "Renamed", True)
    assert changed.get_json()["updated_at"] >= created["updated_at"]
    too_much = client.patch(url, json={"buy_amount_value": 150})
    assert too_much.status_code == 422 and "buy_amount_value" in error_fields(too_much)
    assert client.get(url).get_json()["buy_amount_value"] == 10


@pytest.mark.parametrize("patch, status, field", [
    ({"type": "SELL"}, 422, "type"),
    ({}, 422, "_schema"),
    ({"wallet_alias": "w2"}, 422, "wallet_alias"),
    ({"chain": {"rules": [{"type": "timeout", "minutes": 5}]}}, 422, "chain"),
    ({"chain": {"trigger": {"type": "prediction_alert", "model_id": 4242, "min_probability": 0.5}}}, 404, None),
    ({"max_open_positions": 0}, 422, "max_open_positions"),
    ({"name": "x" * 101}, 422, "name"),
])
def test_bad_patch_is_refused_and_changes_nothing(client, wallet, models, patch, status, field):
    created = create(client, buy_body(models[0]))
    url = f"/api/buy/workflows/{created['id']}"
    response = client.patch(url, json=patch)
    assert response.status_code == status
    if field:
        assert field in error_fields(response)
    after = client.get(url).get_json()
    assert {k: after[k] for k in ("name", "chain", "type", "updated_at")} == {
        k: created[k] for k in ("name", "chain", "type", "updated_at")}


def test_patch_unknown_workflow_is_404(client):
    assert client.patch(f"/api/buy/workflows/{uuid.uuid4()}", json={"name": "x"}).status_code == 404


def test_toggle_on_and_off(client, wallet, models):
    created = create(client, buy_body(models[0]))
    url = f"/api/buy/workflows/{created['id']}/toggle"
    assert client.patch(url + "?active=true").get_json()["is_active"] is True
    assert client.patch(url + "?active=false").get_json()["is_active"] is False
    assert client.patch(url).status_code == 422
    assert client.patch(url + "?active=perhaps").status_code == 422
    assert client.patch(f"/api/buy/workflows/{uuid.uuid4()}/toggle?active=true").status_code == 404


def test_second_active_sell_workflow_on_a_wallet_is_409(client, wallet):
    first = create(client, sell_body(is_active=True))
    second = create(client, sell_body(name="Other exits"))
    response = client.patch(f"/api/buy/workflows/{second['id']}/toggle?active=true")
    assert response.status_code == 409
    assert first["name"] in response.get_json()["message"]
    assert client.post("/api/buy/workflows", json=sell_body(is_active=True)).status_code == 409
    client.patch(f"/api/buy/workflows/{first['id']}/toggle?active=false")
    assert client.patch(f"/api/buy/workflows/{second['id']}/toggle?active=true").status_code == 200


def test_activation_needs_its_models(client, conn, wallet, models):
    created = create(client, buy_body(models[0]))
    conn.execute("DELETE FROM ml_models WHERE id = %s", (models[0],))
    response = client.patch(f"/api/buy/workflows/{created['id']}/toggle?active=true")
    assert response.status_code == 409
    assert str(models[0]) in response.get_json()["message"]


def test_clone_is_new_and_inactive(client, wallet, models):
    created = create(client, buy_body(models[0], is_active=True))
    clone = client.post(f"/api/buy/workflows/{created['id']}/clone")
    assert clone.status_code == 201
    body = clone.get_json()
    assert body["id"] != created["id"] and body["is_active"] is False
    assert body["name"] == "Aggressive Buy Bot (copy)"
    assert (body["chain"], body["buy_amount_value"], body["wallet_id"]) == (
        created["chain"], created["buy_amount_value"], created["wallet_id"])
    named = client.post(f"/api/buy/workflows/{created['id']}/clone", json={"name": "Mine"})
    assert named.get_json()["name"] == "Mine"
    assert client.post(f"/api/buy/workflows/{created['id']}/clone", json={"name": ""}).status_code == 422
    assert client.post(f"/api/buy/workflows/{uuid.uuid4()}/clone").status_code == 404


def test_clone_of_active_sell_does_not_clash(client, wallet):
    created = create(client, sell_body(is_active=True, name="n" * 100))
    clone = client.post(f"/api/buy/workflows/{created['id']}/clone").get_json()
    assert clone["is_active"] is False and len(clone["name"]) == 100 and clone["name"].endswith("(copy)")


def test_delete_removes_workflow_and_its_log(client, conn, wallet, models):
    created = create(client, buy_body(models[0]))
    add_execution(conn, created["id"], "REJECTED")
    assert client.delete(f"/api/buy/workflows/{created['id']}").status_code == 200
    assert count(conn, "workflow_executions") == 0
    assert client.delete(f"/api/buy/workflows/{created['id']}").status_code == 404
