"""Wallets API against real PostgreSQL."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet

from tests.assertions import count, error_fields
from tests.factories import (
    REAL_PUBLIC_KEY,
    REAL_SECRET_KEY,
    REAL_SIGNED_PUBLIC_KEY,
    WALLET_ALIAS,
    add_position,
    wallet_body,
)

URL = f"/api/wallets/{WALLET_ALIAS}"


def test_create_test_wallet_defaults_to_configured_paper_balance(client):
    response = client.post("/api/wallets", json=wallet_body())
    assert response.status_code == 201
    body = response.get_json()
    assert body["type"] == "TEST"
    assert body["virtual_sol_balance"] == "10.000000000"
    assert body["trading_enabled"] is True
    assert body["open_positions"] == 0


def test_balance_is_exact_to_the_lamport(client):
    response = client.post("/api/wallets", json=wallet_body(virtual_sol_balance="1.123456789"))
    assert response.get_json()["virtual_sol_balance"] == "1.123456789"


@pytest.mark.parametrize("body, field", [
    ({}, "alias"),
    (wallet_body("has space"), "alias"),
    (wallet_body("x" * 65), "alias"),
    (wallet_body(type="DEMO"), "type"),
    (wallet_body(virtual_sol_balance=-1), "virtual_sol_balance"),
    (wallet_body(virtual_sol_balance="0.0000000001"), "virtual_sol_balance"),
    (wallet_body(virtual_sol_balance="lots"), "virtual_sol_balance"),
    (wallet_body(public_key="not-base58!"), "public_key"),
    (wallet_body(color="red"), "color"),
    (wallet_body(type="REAL"), "public_key"),
    (wallet_body(type="REAL", public_key=REAL_PUBLIC_KEY, secret_key="5" * 64), "secret_key"),
])
def test_invalid_wallet_is_422_naming_the_field_and_writes_nothing(client, conn, body, field):
    response = client.post("/api/wallets", json=body)
    assert response.status_code == 422
    assert field in error_fields(response)
    assert field in response.get_json()["message"]
    assert count(conn, "wallets") == 0


def test_duplicate_alias_is_409(client, conn):
    client.post("/api/wallets", json=wallet_body())
    response = client.post("/api/wallets", json=wallet_body())
    assert response.status_code == 409
    assert WALLET_ALIAS in response.get_json()["message"]
    assert count(conn, "wallets") == 1


def test_real_wallet_stores_signing_key_encrypted(client, conn, config, monkeypatch):
    from dataclasses import replace

    key = Fernet.generate_key().decode()
    client.application.extensions["trading_config"] = replace(config, wallet_encryption_key=key)
    secret = REAL_SECRET_KEY
    response = client.post("/api/wallets", json=wallet_body("r1", type="REAL", public_key=REAL_SIGNED_PUBLIC_KEY,
                                                            secret_key=secret))
    assert response.status_code == 201
    body = response.get_json()
    assert body["has_secret_key"] is True and "secret_key" not in body
    assert body["virtual_sol_balance"] == "0.000000000"
    stored = conn.execute("SELECT encrypted_secret_key FROM wallets").fetchone()["encrypted_secret_key"]
    assert secret not in stored
    assert Fernet(key.encode()).decrypt(stored.encode()).decode() == secret


def test_list_and_get_by_alias(client):
    for alias in ("b", "a"):
        client.post("/api/wallets", json=wallet_body(alias))
    assert [w["alias"] for w in client.get("/api/wallets").get_json()] == ["a", "b"]
    assert client.get("/api/wallets/a").get_json()["alias"] == "a"
    missing = client.get("/api/wallets/nope")
    assert missing.status_code == 404
    assert missing.get_json()["code"] == 404 and "nope" in missing.get_json()["message"]


def test_patch_tops_up_and_toggles_trading(client):
    client.post("/api/wallets", json=wallet_body(virtual_sol_balance="1"))
    response = client.patch(URL, json={"top_up_sol": "0.000000001", "trading_enabled": False})
    assert response.status_code == 200
    assert response.get_json()["virtual_sol_balance"] == "1.000000001"
    assert response.get_json()["trading_enabled"] is False


@pytest.mark.parametrize("body, status", [
    ({}, 422),
    ({"top_up_sol": 0}, 422),
    ({"top_up_sol": -1}, 422),
    ({"virtual_sol_balance": 5}, 422),
    ({"trading_enabled": "maybe"}, 422),
])
def test_invalid_patch_changes_nothing(client, body, status):
    client.post("/api/wallets", json=wallet_body(virtual_sol_balance="1"))
    assert client.patch(URL, json=body).status_code == status
    assert client.get(URL).get_json()["virtual_sol_balance"] == "1.000000000"


def test_patch_unknown_wallet_is_404(client):
    assert client.patch("/api/wallets/ghost", json={"trading_enabled": False}).status_code == 404


def test_delete_refuses_while_positions_are_open(client, conn):
    wallet_id = client.post("/api/wallets", json=wallet_body()).get_json()["id"]
    position_id = add_position(conn, wallet_id)
    response = client.delete(URL)
    assert response.status_code == 409
    assert "open position" in response.get_json()["message"]
    conn.execute("UPDATE positions SET status = 'CLOSED', closed_at = now() WHERE id = %s", (position_id,))
    assert client.delete(URL).status_code == 200
    assert client.get(URL).status_code == 404
    assert client.delete(URL).status_code == 404
