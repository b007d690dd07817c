"""/api/notifications: endpoints (secrets shown once, never listed or audited) and the deliveries list."""

from __future__ import annotations

import json

from tests import factories


def test_a_webhook_secret_is_shown_once_and_never_listed_or_audited(client):
    created = client.post("/api/notifications/endpoints", json={
        "kind": "webhook", "url": "https://example.com/hook", "events": ["sell_executed", "buy_executed"]})
    assert created.status_code == 201
    body = created.get_json()
    assert body["signing_secret"].startswith("whsec_") and body["events"] == ["buy_executed", "sell_executed"]
    listed = client.get("/api/notifications/endpoints").get_json()
    assert [e["id"] for e in listed] == [body["id"]]
    assert body["signing_secret"] not in json.dumps(listed)
    assert body["signing_secret"] not in json.dumps(client.get("/api/audit").get_json())


def test_bad_endpoints_are_refused_naming_the_field(client, conn):
    cases = [
        ({"kind": "webhook", "events": ["buy_executed"]}, "url"),
        ({"kind": "webhook", "url": "ftp://x", "events": ["buy_executed"]}, "url"),
        ({"kind": "webhook", "url": "https://x", "events": ["nope"]}, "events"),
        ({"kind": "webhook", "url": "https://x", "events": []}, "events"),
        ({"kind": "webhook", "url": "https://x", "events": ["buy_executed"],
          "workflow_id": "00000000-0000-0000-0000-000000000009"}, "workflow_id"),
        ({"kind": "telegram", "chat_id": "1", "events": ["buy_executed"]}, "bot_token"),
        ({"kind": "telegram", "chat_id": "1", "bot_token": "1:" + "a" * 30, "events": ["buy_executed"]}, "bot_token"),
    ]
    for body, field in cases:
        response = client.post("/api/notifications/endpoints", json=body)
        assert response.status_code == 422, (body, response.get_json())
        assert field in response.get_json()["errors"]["json"], (body, response.get_json())
    assert conn.execute("SELECT count(*) AS n FROM notification_endpoints").fetchone()["n"] == 0


def test_an_endpoint_can_be_scoped_to_a_workflow_and_deleted(client, conn, wallet):
    workflow = factories.create_workflow(conn, factories.sell_body(), active=False)
    created = client.post("/api/notifications/endpoints", json={
        "kind": "webhook", "url": "https://example.com/hook", "events": ["sell_executed"],
        "workflow_id": str(workflow["id"])}).get_json()
    assert created["workflow_id"] == str(workflow["id"])
    assert client.delete(f"/api/notifications/endpoints/{created['id']}").status_code == 200
    assert client.delete(f"/api/notifications/endpoints/{created['id']}").status_code == 404
    assert client.get("/api/notifications/endpoints").get_json() == []


def test_the_deliveries_list_filters_and_refuses_unknown_values(client):
    page = client.get("/api/notifications?status=PENDING&event=buy_executed").get_json()
    assert (page["items"], page["total"], page["pages"]) == ([], 0, 0)
    assert "status" in client.get("/api/notifications?status=SENT").get_json()["errors"]["query"]
    assert "event" in client.get("/api/notifications?event=x").get_json()["errors"]["query"]
