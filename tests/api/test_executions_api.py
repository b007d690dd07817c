"""Execution logs and stats endpoints against real PostgreSQL."""

from __future__ import annotations

import uuid

import pytest

from tests.factories import MINT, OTHER_MINT, add_execution, buy_body, sell_body


@pytest.fixture
def workflows(client, wallet, make_model):
    buy = client.post("/api/buy/workflows", json=buy_body(make_model(), is_active=True)).get_json()
    sell = client.post("/api/buy/workflows", json=sell_body(is_active=True)).get_json()
    return buy, sell


def test_workflow_executions_newest_first_with_limit(client, conn, workflows):
    buy, sell = workflows
    for minutes_ago, result in ((3, "REJECTED"), (1, "EXECUTED"), (2, "ERROR")):
        add_execution(conn, buy["id"], result, minutes_ago=minutes_ago)
    add_execution(conn, sell["id"], "EXECUTED")
    rows = client.get(f"/api/buy/workflows/{buy['id']}/executions?limit=2").get_json()
    assert [r["result"] for r in rows] == ["EXECUTED", "ERROR"]
    assert rows[0]["workflow_name"] == buy["name"] and rows[0]["steps_log"][0]["step"] == "trigger"
    assert client.get(f"/api/buy/workflows/{buy['id']}/executions?limit=0").status_code == 422
    assert client.get(f"/api/buy/workflows/{uuid.uuid4()}/executions").status_code == 404


def test_recent_executions_filter_by_result(client, conn, workflows):
    buy, sell = workflows
    for i in range(25):
        add_execution(conn, buy["id"] if i % 2 else sell["id"], "REJECTED" if i % 3 else "EXECUTED", minutes_ago=i)
    assert len(client.get("/api/buy/workflows/executions/recent").get_json()) == 20
    executed = client.get("/api/buy/workflows/executions/recent?result=EXECUTED&limit=100").get_json()
    assert len(executed) == 9 and {r["result"] for r in executed} == {"EXECUTED"}
    assert client.get("/api/buy/workflows/executions/recent?result=MAYBE").status_code == 422


def test_global_log_is_paginated_and_filtered(client, conn, workflows):
    buy, sell = workflows
    for i in range(7):
        add_execution(conn, buy["id"], "REJECTED", minutes_ago=i)
    add_execution(conn, sell["id"], "EXECUTED", mint=OTHER_MINT)
    page = client.get("/api/buy/workflow-executions?page=2&page_size=3").get_json()
    assert (page["total"], page["pages"], page["page"], len(page["items"])) == (8, 3, 2, 3)
    by_workflow = client.get(f"/api/buy/workflow-executions?workflow_id={sell['id']}").get_json()
    assert by_workflow["total"] == 1 and by_workflow["items"][0]["workflow_type"] == "SELL"
    assert client.get("/api/buy/workflow-executions?result=REJECTED&type=BUY").get_json()["total"] == 7
    assert client.get(f"/api/buy/workflow-executions?mint={MINT}").get_json()["total"] == 7
    assert client.get("/api/buy/workflow-executions?workflow_id=nope").status_code == 422
    assert client.get("/api/buy/workflow-executions?page_size=501").status_code == 422


def test_stats_count_active_workflows_and_todays_executions(client, conn, workflows):
    buy, sell = workflows
    client.post(f"/api/buy/workflows/{buy['id']}/clone")
    add_execution(conn, buy["id"], "EXECUTED")
    add_execution(conn, buy["id"], "REJECTED")
    add_execution(conn, sell["id"], "ERROR")
    add_execution(conn, sell["id"], "EXECUTED", minutes_ago=60 * 48)
    stats = client.get("/api/buy/workflows/stats").get_json()
    assert stats == {"active_buy": 1, "active_sell": 1,
                     "executions_today": {"EXECUTED": 1, "REJECTED": 1, "ERROR": 1, "total": 3}}
