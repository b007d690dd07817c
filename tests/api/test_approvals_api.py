"""Approvals through the API: list by status, approve once (409 after), reject with the key's name, audit."""

from __future__ import annotations

from dataclasses import replace

import pytest

from app.config import PriceSourceName
from app.services.buy_engine import evaluate_prediction
from app.store.postgres import PostgresStore
from tests.factories import add_mint, buy_deps, buy_workflow, mint_for, store_prediction


@pytest.fixture
def sim_app(app, config):
    """No network: prices from the simulated market."""
    app.extensions["trading_config"] = replace(config, price_source=PriceSourceName.SIM)
    return app


@pytest.fixture
def approval_ids(sim_app, conn, wallet, make_model):
    trigger = make_model("trigger")
    buy_workflow(conn, trigger, require_approval=True)
    ids = []
    for name in ("a", "b"):
        mint = mint_for(name)
        add_mint(conn, mint)
        [outcome] = evaluate_prediction(PostgresStore(conn),
                                        store_prediction(conn, trigger, 0.9, mint=mint), buy_deps())
        ids.append(outcome["approval_id"])
    return ids


def test_list_approve_once_and_reject(client, approval_ids):
    listed = client.get("/api/approvals?status=PENDING").get_json()
    assert sorted(a["id"] for a in listed) == sorted(approval_ids)
    assert listed[0]["workflow_name"] == "Aggressive Buy Bot" and listed[0]["steps_log"][-1]["result"] == "waiting"
    approved = client.post(f"/api/approvals/{approval_ids[0]}/approve")
    assert approved.status_code == 200, approved.get_json()
    body = approved.get_json()
    assert body["status"] == "APPROVED" and body["decided_by"] == "test-admin" and body["outcome"]["result"]
    again = client.post(f"/api/approvals/{approval_ids[0]}/approve")
    assert again.status_code == 409 and "APPROVED" in again.get_json()["message"]
    rejected = client.post(f"/api/approvals/{approval_ids[1]}/reject").get_json()
    assert rejected["status"] == "REJECTED" and rejected["outcome"]["result"] == "REJECTED"
    assert client.get("/api/approvals?status=PENDING").get_json() == []
    targets = [e["target"] for e in client.get("/api/audit").get_json()["items"]]
    assert f"approval:{approval_ids[0]}" in targets


def test_unknown_approval_and_bad_status(client, approval_ids):
    missing = client.post("/api/approvals/00000000-0000-0000-0000-000000000009/approve")
    assert missing.status_code == 404
    bad = client.get("/api/approvals?status=MAYBE")
    assert bad.status_code == 422 and "status" in bad.get_json()["errors"]["query"]


def test_workflow_require_approval_is_shown_and_editable(client, approval_ids):
    [workflow] = client.get("/api/buy/workflows").get_json()
    assert workflow["require_approval"] is True
    patched = client.patch(f"/api/buy/workflows/{workflow['id']}", json={"require_approval": False})
    assert patched.status_code == 200 and patched.get_json()["require_approval"] is False
