"""The emergency stop and wallet limits through the API: keys, audit, validation, 409 on a halted manual sell."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.assertions import count, error_fields
from tests.factories import WALLET_ALIAS, wallet_body


def test_halt_status_resume_round_trip_is_audited(client):
    assert client.get("/api/trading/status").get_json()["halted"] is False
    halted = client.post("/api/trading/halt", json={"reason": "rug wave", "sells": "halt"})
    assert halted.status_code == 200
    body = halted.get_json()
    assert (body["halted"], body["sells"], body["reason"], body["source"], body["halted_by"]) == (
        True, "halt", "rug wave", "api", "test-admin")
    assert client.get("/api/trading/status").get_json() == body
    resumed = client.post("/api/trading/resume").get_json()
    assert resumed["halted"] is False and resumed["reason"] is None
    paths = [e["path"] for e in client.get("/api/audit").get_json()["items"]]
    assert "/api/trading/halt" in paths and "/api/trading/resume" in paths


def test_halt_needs_a_reason_and_a_known_sells_mode(client):
    missing = client.post("/api/trading/halt", json={"sells": "halt"})
    assert missing.status_code == 422 and "reason" in error_fields(missing)
    bad = client.post("/api/trading/halt", json={"reason": "x", "sells": "sometimes"})
    assert bad.status_code == 422 and "sells" in error_fields(bad)
    assert client.get("/api/trading/status").get_json()["halted"] is False


def test_halt_needs_a_key_and_an_admin_one(anonymous_client):
    assert anonymous_client.post("/api/trading/halt", json={"reason": "x"}).status_code == 401
    assert anonymous_client.get("/api/trading/status").status_code == 401


def test_manual_sell_answers_409_while_sells_are_halted(client, position):
    client.post("/api/trading/halt", json={"reason": "freeze", "sells": "halt"})
    refused = client.post(f"/api/positions/{position['id']}/sell", json={})
    assert refused.status_code == 409 and "freeze" in refused.get_json()["message"]


def test_trading_halted_all_from_the_environment_shows_and_refuses_manual_sells(config, conn, redis_conn, admin_key,
                                                                              position):
    from app import create_app

    halted = create_app(replace(config, trading_halted=True, trading_halted_sells=True)).test_client()
    halted.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {admin_key}"
    status = halted.get("/api/trading/status").get_json()
    assert (status["halted"], status["sells"], status["source"]) == (True, "halt", "config")
    assert "TRADING_HALTED=all" in status["reason"]
    refused = halted.post(f"/api/positions/{position['id']}/sell", json={})
    assert refused.status_code == 409 and "TRADING_HALTED=all" in refused.get_json()["message"]
    assert halted.post("/api/trading/resume").get_json()["sells"] == "halt"  # only unsetting it lifts it


def test_wallet_limits_are_visible_editable_and_clearable(client, wallet):
    shown = client.get("/api/wallets/w1").get_json()
    assert (shown["max_buys_per_day"], shown["max_daily_loss_sol"], shown["max_position_pct"]) == (None, None, None)
    assert (shown["breaker_losing_sells"], shown["losing_streak"], shown["breaker_tripped_at"]) == (3, 0, None)
    patched = client.patch("/api/wallets/w1", json={"max_buys_per_day": 10, "max_daily_loss_sol": "0.5",
                                                    "max_position_pct": "12.5", "breaker_losing_sells": 4})
    assert patched.status_code == 200
    body = patched.get_json()
    assert (body["max_buys_per_day"], body["max_daily_loss_sol"], body["max_position_pct"],
            body["breaker_losing_sells"]) == (10, "0.500000000", "12.50", 4)
    cleared = client.patch("/api/wallets/w1", json={"max_buys_per_day": None}).get_json()
    assert cleared["max_buys_per_day"] is None and cleared["max_position_pct"] == "12.50"


def test_wallet_limits_out_of_range_name_the_field(client, wallet):
    for body, field in (({"max_position_pct": "100.01"}, "max_position_pct"),
                        ({"max_buys_per_day": 0}, "max_buys_per_day"),
                        ({"max_daily_loss_sol": "0"}, "max_daily_loss_sol"),
                        ({"breaker_losing_sells": 0}, "breaker_losing_sells")):
        response = client.patch("/api/wallets/w1", json=body)
        assert response.status_code == 422 and field in error_fields(response)


def test_wallet_limits_can_be_set_at_creation(client, conn):
    created = client.post("/api/wallets", json=wallet_body(
        max_buys_per_day=5, max_daily_loss_sol="0.25", max_position_pct="10", breaker_losing_sells=2))
    assert created.status_code == 201
    body = created.get_json()
    assert (body["max_buys_per_day"], body["max_daily_loss_sol"], body["max_position_pct"],
            body["breaker_losing_sells"], body["losing_streak"]) == (5, "0.250000000", "10.00", 2, 0)
    stored = conn.execute("SELECT max_buys_per_day, breaker_losing_sells FROM wallets").fetchone()
    assert stored == {"max_buys_per_day": 5, "breaker_losing_sells": 2}
    assert client.get(f"/api/wallets/{WALLET_ALIAS}").get_json() == body


def test_wallet_created_without_limits_has_none_and_the_default_breaker(client):
    body = client.post("/api/wallets", json=wallet_body(max_position_pct=None)).get_json()
    assert (body["max_buys_per_day"], body["max_daily_loss_sol"], body["max_position_pct"],
            body["breaker_losing_sells"]) == (None, None, None, 3)


@pytest.mark.parametrize("limits, field", [
    ({"max_position_pct": "100.01"}, "max_position_pct"),
    ({"max_buys_per_day": 0}, "max_buys_per_day"),
    ({"max_buys_per_day": "5"}, "max_buys_per_day"),
    ({"max_daily_loss_sol": "0"}, "max_daily_loss_sol"),
    ({"max_daily_loss_sol": "0.0000000001"}, "max_daily_loss_sol"),
    ({"breaker_losing_sells": 0}, "breaker_losing_sells"),
    ({"breaker_losing_sells": None}, "breaker_losing_sells"),
])
def test_wallet_limits_at_creation_are_validated_as_on_patch_and_write_nothing(client, conn, limits, field):
    response = client.post("/api/wallets", json=wallet_body(**limits))
    assert response.status_code == 422 and field in error_fields(response)
    assert field in response.get_json()["message"]
    assert count(conn, "wallets") == 0
    client.post("/api/wallets", json=wallet_body())
    patched = client.patch(f"/api/wallets/{WALLET_ALIAS}", json=limits)
    assert patched.status_code == 422 and field in error_fields(patched)


def test_circuit_breaker_reset(client, wallet, conn):
    conn.execute("UPDATE wallets SET losing_streak = 3, breaker_tripped_at = now(), "
                 "breaker_reason = '3 consecutive losing sells'")
    reset = client.post("/api/wallets/w1/circuit-breaker/reset")
    assert reset.status_code == 200 and reset.get_json()["breaker_tripped_at"] is None
    assert client.post("/api/wallets/nope/circuit-breaker/reset").status_code == 404
    audit = client.get("/api/audit?target=wallet:w1").get_json()["items"][0]
    assert audit["before"]["breaker_reason"] == "3 consecutive losing sells"
