"""Hostile input answers 4xx in the error envelope, naming the field, and writes nothing (issue 10 items 5-7,
issue 14's input bounds), against real PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.api.request_guard import MAX_JSON_DEPTH
from tests.assertions import count
from tests.factories import WALLET_ALIAS, buy_body, sell_body, upload_body

MINT = "7GCihgDB8fe6KNjn2MYtkzZcRjQy3t9GHdC8uHYmW2hr"
NOW = datetime.now(UTC).replace(microsecond=0)  # a past moment once tests run
TABLES = ("wallets", "trading_workflows", "ml_models", "predictions", "coin_metrics", "mints")


@pytest.fixture
def world(client, make_model):
    """A wallet w1 and a model; returns the model id."""
    assert client.post("/api/wallets", json={"alias": WALLET_ALIAS}).status_code == 201
    return make_model("m")


def rows(conn) -> dict[str, int]:
    return {table: count(conn, table) for table in TABLES}


def raw(client, method: str, url: str, text: str):
    return client.open(url, method=method, data=text.encode("utf-8", "surrogatepass"),
                       content_type="application/json")


def assert_refused(response, status: int, location: str, field: str):
    """4xx in the flask-smorest envelope, its errors and message naming the field."""
    body = response.get_json()
    assert response.status_code == status, body
    assert body["code"] == status and body["status"]
    assert field in json.dumps(body["errors"][location]) and field in body["message"]


# --- item 6: NUL bytes and lone surrogates anywhere -------------------------------------------------

def nul_cases(model: int) -> list[tuple[str, str, dict, str]]:
    prediction = {"mint": MINT, "model_id": model, "probability": 0.5, "timestamp": NOW.isoformat()}
    return [
        ("POST", "/api/buy/workflows", sell_body(name="a\x00b"), "name"),
        ("POST", "/api/predictions", {**prediction, "id": "a\x00"}, "id"),
        ("POST", "/api/predictions", {**prediction, "tag": "a\x00"}, "tag"),
        ("POST", "/api/predictions", [prediction, {**prediction, "tag": "\x00"}], "tag"),
        ("POST", "/api/models", {**upload_body("m2", ["price_sol"]), "description": "x\x00"}, "description"),
        ("POST", f"/api/coins/{MINT}/metrics",
         {"decimals": 6, "symbol": "a\x00", "metrics": [{"ts": NOW.isoformat(), "price_sol": "1"}]}, "symbol"),
        ("POST", "/api/buy/workflows", sell_body(chain={"rules": [{"type": "stop_loss", "percent": -5,
                                                                   "from\x00": "entry"}]}), "chain"),
    ]


@pytest.mark.parametrize("case", range(7))
def test_a_nul_character_in_any_stored_string_is_422_naming_it(client, conn, world, case):
    method, url, body, field = nul_cases(world)[case]
    before = rows(conn)
    assert_refused(client.open(url, method=method, json=body), 422, "json", field)
    assert rows(conn) == before


@pytest.mark.parametrize("url, field", [
    ("/api/buy/workflows?wallet_alias=a%00b", "wallet_alias"),
    ("/api/positions?wallet_alias=%00", "wallet_alias"),
    ("/api/trades?wallet_alias=%00", "wallet_alias"),
    ("/api/buy/workflow-executions?mint=%00", "mint"),
])
def test_a_nul_character_in_a_query_is_422_naming_it(client, world, url, field):
    assert_refused(client.get(url), 422, "query", field)


def test_a_nul_character_in_a_path_is_422_naming_it(client, world):
    assert_refused(client.get("/api/wallets/w%001"), 422, "path", "alias")
    assert_refused(client.delete("/api/wallets/w%001"), 422, "path", "alias")


def test_a_lone_surrogate_is_422_naming_the_field(client, conn, world):
    before = rows(conn)
    text = json.dumps(sell_body(name="NAME")).replace("NAME", "a\\ud800b")
    assert_refused(raw(client, "POST", "/api/buy/workflows", text), 422, "json", "name")
    patch = raw(client, "POST", "/api/wallets", '{"alias": "w2", "public_key": "\\udfff"}')
    assert_refused(patch, 422, "json", "public_key")
    assert rows(conn) == before


def test_a_surrogate_pair_is_a_character_not_an_error(client, world):
    response = raw(client, "POST", "/api/buy/workflows", json.dumps(sell_body(name="rocket \U0001F680")))
    assert response.status_code == 201 and response.get_json()["name"] == "rocket \U0001F680"


# --- item 6: nesting, overflow, body size ----------------------------------------------------------

@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_json_nested_a_thousand_levels_is_422(client, conn, world, depth):
    before = rows(conn)
    deep = "[" * depth + "]" * depth
    for url in ("/api/wallets", "/api/predictions", "/api/buy/workflows"):
        response = raw(client, "POST", url, deep)
        assert response.status_code == 422 and "nested deeper" in response.get_json()["message"]
        response = raw(client, "POST", url, json.dumps(sell_body()).replace('"rules"', f'"rules": {deep}, "x"'))
        assert response.status_code == 422 and "nested deeper" in response.get_json()["message"]
    assert rows(conn) == before


def test_json_nested_past_the_limit_names_where(client, world):
    chain = {"rules": []}
    node = chain
    for _ in range(MAX_JSON_DEPTH):
        node["x"] = {}
        node = node["x"]
    response = client.post("/api/buy/workflows", json=sell_body(chain=chain))
    assert_refused(response, 422, "json", "chain")
    assert "nested deeper" in response.get_json()["message"]


def test_top_up_beyond_what_a_balance_holds_is_422_and_changes_nothing(client, conn, world):
    response = raw(client, "PATCH", "/api/wallets/w1", '{"top_up_sol": 999999999999999999999}')
    assert_refused(response, 422, "json", "top_up_sol")
    assert client.get("/api/wallets/w1").get_json()["virtual_sol_balance"] == "10.000000000"
    too_big = raw(client, "PATCH", "/api/wallets/w1", '{"top_up_sol": 1000000000000000000000}')
    assert_refused(too_big, 422, "json", "top_up_sol")
    fits = client.patch("/api/wallets/w1", json={"top_up_sol": "999999999999999999989.999999999"})
    assert fits.get_json()["virtual_sol_balance"] == "999999999999999999999.999999999"


@pytest.mark.parametrize("timestamp", ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "1999-12-31T23:59:59Z"])
def test_a_timestamp_before_2000_is_422(client, conn, world, timestamp):
    predict = client.post(f"/api/models/{world}/predict", json={"mint": MINT, "timestamp": timestamp})
    assert_refused(predict, 422, "json", "timestamp")
    prediction = {"mint": MINT, "model_id": world, "probability": 0.5, "timestamp": timestamp}
    assert_refused(client.post("/api/predictions", json=prediction), 422, "json", "timestamp")
    metrics = {"metrics": [{"ts": timestamp, "price_sol": "1"}]}
    assert_refused(client.post(f"/api/coins/{MINT}/metrics", json=metrics), 422, "json", "ts")
    assert count(conn, "predictions") == 0 and count(conn, "coin_metrics") == 0


@pytest.mark.parametrize("page", ["364013669198356180631552", "2147483648"])
def test_a_page_beyond_bigint_is_422(client, page):
    assert_refused(client.get(f"/api/buy/workflow-executions?page={page}"), 422, "query", "page")


def test_a_100_mb_body_is_413_in_the_envelope_and_not_parsed(client, conn):
    response = client.post("/api/wallets", data=b" " * (100 * 1024 * 1024), content_type="application/json")
    body = response.get_json()
    assert response.status_code == 413 and body["code"] == 413 and "8388608 bytes" in body["message"]
    assert count(conn, "wallets") == 0


def test_the_model_upload_route_takes_a_larger_body(client, conn):
    body = {**upload_body("big", ["price_sol"]), "description": "x" * 100}
    body["model_base64"] = "A" * (9 * 1024 * 1024)  # > 8 MiB: valid base64 of zero bytes, not a model
    response = client.post("/api/models", json=body)
    assert response.status_code == 422 and "model_base64" in response.get_json()["errors"]["json"]
    assert count(conn, "ml_models") == 0


# --- item 5: timestamps in the future; deleting bad points ------------------------------------------

def test_a_future_timestamp_is_422_naming_it_and_stores_nothing(client, conn, world):
    future = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()
    response = client.post(f"/api/coins/{MINT}/metrics", json={"decimals": 6, "metrics": [
        {"ts": NOW.isoformat(), "price_sol": "1"}, {"ts": "9999-12-31T00:00:00Z", "price_sol": "1"}]})
    assert_refused(response, 422, "json", "ts")
    assert list(response.get_json()["errors"]["json"]["metrics"]) == ["1"]
    prediction = {"mint": MINT, "model_id": world, "probability": 0.5, "timestamp": future}
    assert_refused(client.post("/api/predictions", json=prediction), 422, "json", "timestamp")
    assert count(conn, "coin_metrics") == 0 and count(conn, "mints") == 0 and count(conn, "predictions") == 0


def test_a_timestamp_within_the_clock_skew_is_accepted(client):
    soon = (datetime.now(UTC) + timedelta(seconds=30)).isoformat()
    response = client.post(f"/api/coins/{MINT}/metrics", json={"metrics": [{"ts": soon, "price_sol": "1"}]})
    assert response.status_code == 201


def test_an_operator_deletes_points_by_time_range(client, conn):
    conn.execute("INSERT INTO coin_metrics (mint, ts, price_sol) VALUES (%s, %s, 1), (%s, '9999-12-31', 2)",
                 (MINT, NOW - timedelta(minutes=1), MINT))
    url = f"/api/coins/{MINT}/metrics"
    assert [p["price_sol"] for p in client.get(url).get_json()] == ["1"]
    assert [p["price_sol"] for p in client.get(url + "?to=9999-12-31T00:00:00Z").get_json()] == ["2", "1"]
    assert_refused(client.delete(url), 422, "query", "to")
    deleted = client.delete(url, query_string={"from": NOW.isoformat(), "to": "9999-12-31T00:00:00Z"})
    assert deleted.status_code == 200 and deleted.get_json() == {"mint": MINT, "deleted": 1}
    assert count(conn, "coin_metrics") == 1
    not_a_mint = client.delete("/api/coins/not-a-mint/metrics", query_string={"to": NOW.isoformat()})
    assert_refused(not_a_mint, 422, "path", "mint")


# --- percent buy amounts, batch sizes, string lengths ----------------------------------------------

def test_a_percent_buy_amount_with_more_than_9_decimals_is_422_on_create_and_patch(client, conn, world):
    body = buy_body(world, buy_amount_mode="percent", buy_amount_value="0.0000000001")
    assert_refused(client.post("/api/buy/workflows", json=body), 422, "json", "buy_amount_value")
    assert count(conn, "trading_workflows") == 0
    created = client.post("/api/buy/workflows", json=buy_body(world, buy_amount_mode="percent",
                                                              buy_amount_value="2.5")).get_json()
    url = f"/api/buy/workflows/{created['id']}"
    assert_refused(client.patch(url, json={"buy_amount_value": "0.0000000001"}), 422, "json", "buy_amount_value")
    assert client.get(url).get_json()["buy_amount_value"] == 2.5


def test_the_core_refuses_a_percent_with_more_than_9_decimals():
    from app.core.chains import check_amounts

    assert check_amounts("BUY", "percent", Decimal("0.0000000001")) == {
        ("buy_amount_value",): ["A percent of the balance has at most 9 decimals."]}
    assert check_amounts("BUY", "percent", Decimal("99.999999999")) == {}


def test_batches_past_their_limit_are_422_naming_the_field(client, conn, world):
    prediction = {"mint": MINT, "model_id": world, "probability": 0.5, "timestamp": NOW.isoformat()}
    response = client.post("/api/predictions", json=[prediction] * 1001)
    assert response.status_code == 422 and "1000" in response.get_json()["message"]
    points = [{"ts": (NOW - timedelta(seconds=s)).isoformat(), "price_sol": "1"} for s in range(5001)]
    assert_refused(client.post(f"/api/coins/{MINT}/metrics", json={"metrics": points}), 422, "json", "metrics")
    assert count(conn, "predictions") == 0 and count(conn, "coin_metrics") == 0


@pytest.mark.parametrize("method, url, body, field", [
    ("POST", "/api/models", {**upload_body("m", ["p" * 101])}, "feature_names"),
    ("POST", "/api/models", {**upload_body("m", ["price_sol"]), "name": "n" * 101}, "name"),
    ("POST", "/api/models", {**upload_body("m", ["price_sol"]), "description": "d" * 2001}, "description"),
    ("POST", "/api/buy/workflows", sell_body(name="n" * 101), "name"),
    ("POST", "/api/buy/workflows", sell_body(wallet_alias="w" * 65), "wallet_alias"),
    ("POST", "/api/wallets", {"alias": "w" * 65}, "alias"),
    ("POST", "/api/predictions", {"id": "i" * 129, "mint": MINT, "model_id": 1, "probability": 0.5,
                                  "timestamp": NOW.isoformat()}, "id"),
    ("POST", f"/api/coins/{MINT}/metrics", {"decimals": 6, "symbol": "s" * 33,
                                            "metrics": [{"ts": NOW.isoformat(), "price_sol": "1"}]}, "symbol"),
])
def test_every_stored_string_has_a_length_limit(client, conn, world, method, url, body, field):
    before = rows(conn)
    assert_refused(client.open(url, method=method, json=body), 422, "json", field)
    assert rows(conn) == before


@pytest.mark.parametrize("url, field", [
    ("/api/buy/workflows?wallet_alias=" + "w" * 65, "wallet_alias"),
    ("/api/positions?wallet_alias=" + "w" * 65, "wallet_alias"),
    ("/api/trades?wallet_alias=" + "w" * 65, "wallet_alias"),
])
def test_query_strings_have_length_limits(client, url, field):
    assert_refused(client.get(url), 422, "query", field)


@pytest.mark.parametrize("value", ["1e2", " 1", "01", "+1", "1_000", ".5", "5.", "١"])
def test_a_decimal_string_is_plain_digits(client, value):
    response = client.post("/api/wallets", json={"alias": "w9", "virtual_sol_balance": value})
    assert_refused(response, 422, "json", "virtual_sol_balance")


@pytest.mark.parametrize("value", [0, 1, "true"])
def test_a_json_boolean_is_true_or_false_only(client, world, value):
    assert_refused(client.patch("/api/wallets/w1", json={"trading_enabled": value}), 422, "json", "trading_enabled")
