"""The audit log: every change made through the API, written in the change's own transaction."""

from __future__ import annotations

from dataclasses import replace

from cryptography.fernet import Fernet

from tests.assertions import count
from tests.factories import (
    MINT,
    REAL_SECRET_KEY,
    REAL_SIGNED_PUBLIC_KEY,
    buy_body,
    metric_point,
    model_body,
    prediction_body,
    train_booster,
    wallet_body,
)


def entries(client, **query) -> list[dict]:
    response = client.get("/api/audit", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def test_wallet_create_change_delete_with_before_and_after(client):
    client.post("/api/wallets", json=wallet_body("paper", virtual_sol_balance="10"))
    client.patch("/api/wallets/paper", json={"top_up_sol": "5"})
    client.delete("/api/wallets/paper")
    delete, patch, create = entries(client, target="wallet:paper") + entries(client, target="wallets:paper")
    assert (create["method"], create["before"], create["after"]["virtual_sol_balance"]) == ("POST", None,
                                                                                          "10.000000000")
    assert patch["before"]["virtual_sol_balance"] == "10.000000000"
    assert patch["after"]["virtual_sol_balance"] == "15.000000000"
    assert delete["method"] == "DELETE" and delete["before"]["alias"] == "paper" and delete["after"] is None
    assert {e["key_name"] for e in (create, patch, delete)} == {"test-admin"}
    assert create["client_addr"] == "127.0.0.1" and create["path"] == "/api/wallets"


def test_workflow_model_metrics_and_prediction_writes_are_audited(client):
    client.post("/api/wallets", json=wallet_body())
    upload_model = model_body(train_booster(1, seed=1), "m", feature_names=["price_sol"])
    model = client.post("/api/models", json=upload_model).get_json()
    workflow = client.post("/api/buy/workflows", json=buy_body(model["id"], name="b", buy_amount_value=0.1)).get_json()
    client.patch(f"/api/buy/workflows/{workflow['id']}/toggle?active=true")
    client.post(f"/api/coins/{MINT}/metrics", json={"decimals": 6, "metrics": [
        metric_point("2026-01-01T00:00:00Z", "0.0001")]})
    client.post("/api/predictions", json=prediction_body(model["id"], probability=0.9,
                                                         timestamp="2026-01-01T00:00:00Z"))
    toggle = entries(client, target=f"workflow:{workflow['id']}")[0]
    assert toggle["before"]["is_active"] is False and toggle["after"]["is_active"] is True
    [upload] = [e for e in entries(client) if e["path"] == "/api/models"]
    assert "model_base64" not in str(upload) and upload["after"]["name"] == "m"
    assert entries(client, target=f"mint:{MINT}")[0]["after"]["stored"] == 1
    assert next(e["target"] for e in entries(client) if e["path"] == "/api/predictions").startswith("predictions:")


def test_secrets_never_reach_the_audit_log(client, config):
    key = Fernet.generate_key().decode()
    client.application.extensions["trading_config"] = replace(config, wallet_encryption_key=key)
    secret = REAL_SECRET_KEY
    assert client.post("/api/wallets", json=wallet_body("r1", type="REAL", public_key=REAL_SIGNED_PUBLIC_KEY,
                                                        secret_key=secret)).status_code == 201
    assert secret not in str(client.get("/api/audit").get_json())


def test_a_refused_write_leaves_no_entry_and_no_change(client, conn):
    assert client.post("/api/wallets", json=wallet_body("bad alias")).status_code == 422
    assert client.patch("/api/wallets/missing", json={"top_up_sol": "1"}).status_code == 404
    assert entries(client) == []


def test_the_change_and_its_entry_commit_together(client, conn):
    conn.execute("""CREATE FUNCTION refuse_audit() RETURNS trigger LANGUAGE plpgsql AS
                    $$ BEGIN RAISE EXCEPTION 'audit unavailable'; END $$""")
    conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit()")
    try:
        client.application.config["PROPAGATE_EXCEPTIONS"] = False
        response = client.post("/api/wallets", json=wallet_body("lost"))
        assert response.status_code == 500
        assert count(conn, "wallets") == 0
    finally:
        conn.execute("DROP TRIGGER refuse ON audit_log")
        conn.execute("DROP FUNCTION refuse_audit()")


def test_filters_and_pages(client):
    for i in range(5):
        client.post("/api/wallets", json=wallet_body(f"w{i}"))
    page = client.get("/api/audit?page=2&page_size=2").get_json()
    assert (page["total"], page["pages"], len(page["items"])) == (5, 3, 2)
    assert entries(client, key="nobody") == []
    assert len(entries(client, since="2000-01-01T00:00:00Z")) == 5
