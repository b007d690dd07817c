"""REAL wallets over the API: a keypair given or generated, stored encrypted, never shown; SOL read from the chain."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import replace

import pytest
from cryptography.fernet import Fernet
from solders.keypair import Keypair
from solders.pubkey import Pubkey

from app import secrets
from app.core.keys import parse_secret_key
from tests.assertions import error_fields
from tests.factories import REAL_PUBLIC_KEY, REAL_SECRET_KEY, REAL_SIGNED_PUBLIC_KEY, signing_key, wallet_body
from tests.fakes.solana_chain import LocalChain
from tests.fakes.solana_rpc import SolanaRpc
from tests.service.test_chain_rpc import closed_port_url

KEY = Fernet.generate_key().decode()


@pytest.fixture
def node() -> Iterator[SolanaRpc]:
    """A local chain behind its RPC node."""
    with SolanaRpc(LocalChain(), blocks_per_call=0) as rpc:
        yield rpc


def configure(client, config, **changes) -> None:
    """Run the app with these configuration changes (WALLET_ENCRYPTION_KEY set unless overridden)."""
    client.application.extensions["trading_config"] = replace(config, **{"wallet_encryption_key": KEY, **changes})


def stored_secret(conn, alias: str) -> str:
    return conn.execute("SELECT encrypted_secret_key FROM wallets WHERE alias = %s", (alias,)).fetchone()[
        "encrypted_secret_key"]


def test_secret_key_derives_the_public_key_and_is_never_shown(client, conn, config, caplog):
    configure(client, config)
    caplog.set_level(logging.DEBUG)
    response = client.post("/api/wallets", json=wallet_body("r1", type="REAL", secret_key=REAL_SECRET_KEY))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["public_key"] == REAL_SIGNED_PUBLIC_KEY and body["has_secret_key"] is True
    shown = [response.get_data(as_text=True), client.get("/api/wallets/r1").get_data(as_text=True),
             client.get("/api/wallets").get_data(as_text=True), client.get("/api/audit").get_data(as_text=True),
             caplog.text]
    assert all(REAL_SECRET_KEY not in text for text in shown)
    assert REAL_SECRET_KEY not in stored_secret(conn, "r1")
    assert secrets.decrypt(KEY, stored_secret(conn, "r1")) == REAL_SECRET_KEY


def test_generate_makes_a_keypair_to_fund(client, conn, config, caplog):
    configure(client, config)
    caplog.set_level(logging.DEBUG)
    response = client.post("/api/wallets", json=wallet_body("r1", type="REAL", generate=True))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    Pubkey.from_string(body["public_key"])
    assert body["has_secret_key"] is True and "secret_key" not in body
    secret = secrets.decrypt(KEY, stored_secret(conn, "r1"))
    assert parse_secret_key(secret).public_key == body["public_key"]
    assert Keypair.from_base58_string(secret).pubkey() == Pubkey.from_string(body["public_key"])
    assert secret not in response.get_data(as_text=True) + caplog.text
    assert secret not in client.get("/api/audit").get_data(as_text=True)


OTHER_SECRET, OTHER_PUBLIC = signing_key(5)


@pytest.mark.parametrize("body, field", [
    (wallet_body(type="REAL", secret_key=REAL_SECRET_KEY, public_key=OTHER_PUBLIC), "public_key"),
    (wallet_body(type="REAL", secret_key=REAL_SECRET_KEY[:-4]), "secret_key"),
    (wallet_body(type="REAL", secret_key=REAL_SECRET_KEY[:40] + "0" + REAL_SECRET_KEY[41:]), "secret_key"),
    (wallet_body(type="REAL", generate=True, secret_key=OTHER_SECRET), "generate"),
    (wallet_body(type="REAL", generate=True, public_key=OTHER_PUBLIC), "generate"),
    (wallet_body(generate=True), "generate"),
    (wallet_body(type="REAL", generate="yes"), "generate"),
    (wallet_body(type="REAL", generate=False), "public_key"),
])
def test_bad_real_wallets_are_422_naming_the_field_without_the_key(client, conn, config, body, field):
    configure(client, config)
    response = client.post("/api/wallets", json=body)
    assert response.status_code == 422
    assert field in error_fields(response)
    text = response.get_data(as_text=True)
    assert REAL_SECRET_KEY[:30] not in text and OTHER_SECRET[:30] not in text
    assert conn.execute("SELECT count(*) AS n FROM wallets").fetchone()["n"] == 0


@pytest.mark.parametrize("body, field", [
    (wallet_body(type="REAL", secret_key=REAL_SECRET_KEY), "secret_key"),
    (wallet_body(type="REAL", generate=True), "generate"),
])
def test_storing_a_key_needs_wallet_encryption_key(client, conn, config, body, field):
    configure(client, config, wallet_encryption_key=None)
    response = client.post("/api/wallets", json=body)
    assert response.status_code == 422 and field in error_fields(response)
    assert "WALLET_ENCRYPTION_KEY" in response.get_json()["message"]


def test_watch_only_real_wallet_keeps_working(client, config):
    configure(client, config)
    response = client.post("/api/wallets", json=wallet_body("w", type="REAL", public_key=REAL_PUBLIC_KEY))
    assert response.status_code == 201 and response.get_json()["has_secret_key"] is False


def test_balance_comes_from_the_chain_lamport_exact(client, config, node):
    configure(client, config, solana_rpc_url=node.url)
    public_key = client.post("/api/wallets", json=wallet_body("r1", type="REAL", generate=True)).get_json()[
        "public_key"]
    assert client.get("/api/wallets/r1").get_json()["sol_balance"] == "0.000000000"
    node.chain.fund(Pubkey.from_string(public_key), 2_000_000_001)
    body = client.get("/api/wallets/r1").get_json()
    assert body["sol_balance"] == "2.000000001" and "chain_error" not in body
    assert ("getBalance", [public_key, {"commitment": "confirmed"}]) in node.calls


def test_chain_down_is_chain_error_not_500(client, config):
    configure(client, config, solana_rpc_url=closed_port_url())
    client.post("/api/wallets", json=wallet_body("r1", type="REAL", secret_key=REAL_SECRET_KEY))
    response = client.get("/api/wallets/r1")
    assert response.status_code == 200
    body = response.get_json()
    assert "sol_balance" not in body and "unavailable" in body["chain_error"]


def test_no_rpc_url_is_chain_error_naming_it(client, config):
    configure(client, config, solana_rpc_url=None)
    client.post("/api/wallets", json=wallet_body("r1", type="REAL", secret_key=REAL_SECRET_KEY))
    response = client.get("/api/wallets/r1")
    assert response.status_code == 200 and "SOLANA_RPC_URL" in response.get_json()["chain_error"]


def test_test_wallets_do_not_touch_the_chain(client, config, node):
    configure(client, config, solana_rpc_url=node.url)
    client.post("/api/wallets", json=wallet_body("paper"))
    body = client.get("/api/wallets/paper").get_json()
    assert "sol_balance" not in body and "chain_error" not in body and node.calls == []
