"""BUY filters and confidence sizing through the workflows API: stored, shown, patched, refused by field."""

from __future__ import annotations

from tests.assertions import error_fields
from tests.factories import MINT, OTHER_MINT, buy_body


def test_filters_and_sizing_are_stored_shown_and_patched(client, wallet, make_model):
    trigger = make_model("trigger")
    body = buy_body(trigger)
    body["chain"]["filters"] = {"mint_deny": [OTHER_MINT], "min_liquidity_sol": 25}
    body["chain"]["sizing"] = {"type": "confidence", "min_amount": 0.01}
    created = client.post("/api/buy/workflows", json=body)
    assert created.status_code == 201, created.get_json()
    shown = client.get(f"/api/buy/workflows/{created.get_json()['id']}").get_json()
    assert shown["chain"]["filters"] == {"mint_deny": [OTHER_MINT], "min_liquidity_sol": 25}
    assert shown["chain"]["sizing"] == {"type": "confidence", "min_amount": 0.01}
    chain = {**shown["chain"], "filters": {"mint_allow": [MINT]}}
    patched = client.patch(f"/api/buy/workflows/{shown['id']}", json={"chain": chain})
    assert patched.status_code == 200 and patched.get_json()["chain"]["filters"] == {"mint_allow": [MINT]}


def test_bad_filters_are_422_naming_the_field(client, wallet, make_model):
    body = buy_body(make_model("trigger"))
    body["chain"]["filters"] = {"mint_allow": ["not-a-mint"]}
    refused = client.post("/api/buy/workflows", json=body)
    assert refused.status_code == 422 and "chain" in error_fields(refused)
    assert "filters.mint_allow" in refused.get_json()["message"]
    body["chain"]["filters"] = {}
    body["chain"]["sizing"] = {"type": "confidence", "min_amount": 1}  # above the 0.05 SOL amount
    refused = client.post("/api/buy/workflows", json=body)
    assert refused.status_code == 422 and "chain" in error_fields(refused)
    assert "sizing.min_amount" in refused.get_json()["message"]
