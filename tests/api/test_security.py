"""Keys on every door: every /api operation refuses a missing key, every write a read-only key; audit; limits."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from app.core.states import KeyRole
from app.services.api_keys import create_key, revoke_key
from tests.factories import MINT, WALLET_ALIAS, wallet_body

SAMPLE_ARGS = {"alias": WALLET_ALIAS, "workflow_id": "00000000-0000-0000-0000-000000000001", "model_id": "1",
               "position_id": "00000000-0000-0000-0000-000000000002", "mint": MINT,
               "prediction_id": "00000000-0000-0000-0000-000000000003", "endpoint_id": "1",
               "backtest_id": "00000000-0000-0000-0000-000000000004",
               "approval_id": "00000000-0000-0000-0000-000000000005",
               "order_id": "00000000-0000-0000-0000-000000000006"}


def api_operations(client) -> list[tuple[str, str]]:
    """(method, concrete path) of every /api operation in the OpenAPI document."""
    spec = client.get("/openapi.json").get_json()
    operations = []
    for path, methods in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        concrete = re.sub(r"\{(\w+)\}", lambda m: SAMPLE_ARGS[m.group(1)], path)
        operations += [(method.upper(), concrete) for method in methods if method != "parameters"]
    return operations


def test_the_document_lists_many_operations(client):
    assert len(api_operations(client)) >= 25


def test_every_operation_refuses_a_request_without_a_key(client, anonymous_client, conn):
    for method, path in api_operations(client):
        response = anonymous_client.open(path, method=method, json={})
        assert response.status_code == 401, (method, path, response.status_code)
        body = response.get_json()
        assert body["code"] == 401 and "API key" in body["message"], (method, path, body)
        assert response.headers["WWW-Authenticate"] == "Bearer"
    assert conn.execute("SELECT count(*) AS n FROM wallets").fetchone()["n"] == 0


def test_a_wrong_key_is_refused(anonymous_client):
    response = anonymous_client.get("/api/wallets", headers={"Authorization": "Bearer tw_not-a-key"})
    assert response.status_code == 401 and "unknown or revoked" in response.get_json()["message"]


def test_every_write_refuses_a_read_only_key(client, anonymous_client, conn):
    _, key = create_key(conn, "viewer", KeyRole.READ_ONLY)
    headers = {"Authorization": f"Bearer {key}"}
    writes = [(m, p) for m, p in api_operations(client) if m not in ("GET", "HEAD", "OPTIONS")]
    assert len(writes) >= 12
    for method, path in writes:
        response = anonymous_client.open(path, method=method, json={}, headers=headers)
        assert response.status_code == 403, (method, path, response.status_code)
        assert "read-only" in response.get_json()["message"]
    assert anonymous_client.get("/api/wallets", headers=headers).status_code == 200


def test_a_revoked_key_is_refused_at_the_next_request(conn, anonymous_client):
    _, key = create_key(conn, "temp")
    headers = {"Authorization": f"Bearer {key}"}
    assert anonymous_client.get("/api/wallets", headers=headers).status_code == 200
    revoke_key(conn, "temp")
    assert anonymous_client.get("/api/wallets", headers=headers).status_code == 401


def test_health_probes_stay_open_and_say_nothing_else(anonymous_client):
    assert anonymous_client.get("/healthz").get_json() == {"status": "ok"}
    assert set(anonymous_client.get("/readyz").get_json()) == {"status", "postgres", "redis"}


def test_keys_are_stored_only_as_a_hash(conn):
    _, key = create_key(conn, "hashed")
    stored = conn.execute("SELECT * FROM api_keys WHERE name = 'hashed'").fetchone()
    assert key not in str(stored) and len(stored["key_hash"]) == 64 and len(key) >= 43


@pytest.fixture
def limited_client(app, config, client):
    app.extensions["trading_config"] = replace(config, rate_limit_read="3/minute", rate_limit_write="2/minute")
    from app import create_app

    limited = create_app(app.extensions["trading_config"])
    limited.config["TESTING"] = True
    test_client = limited.test_client()
    test_client.environ_base.update(client.environ_base)
    return test_client


def test_reads_and_writes_have_their_own_limit_and_429_says_when_to_retry(limited_client):
    assert [limited_client.get("/api/wallets").status_code for _ in range(3)] == [200, 200, 200]
    refused = limited_client.get("/api/wallets")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    body = refused.get_json()
    assert body["code"] == 429 and "retry after" in body["message"] and "3 per 1 minute" in body["message"]
    created = [limited_client.post("/api/wallets", json=wallet_body(f"r{i}")).status_code for i in range(3)]
    assert created == [201, 201, 429]
