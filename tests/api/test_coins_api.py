"""Coin metrics API (/api/coins) against real PostgreSQL."""

from __future__ import annotations

import pytest

from tests.assertions import count, error_fields
from tests.factories import MINT, OTHER_MINT, metric_point

URL = f"/api/coins/{MINT}/metrics"


def post(client, body, mint=MINT):
    return client.post(f"/api/coins/{mint}/metrics", json=body)


def test_ingest_then_read_back_newest_first_with_decimal_strings(client):
    body = {"decimals": 6, "symbol": "WSOL", "metrics": [
        metric_point("2024-05-01T12:00:00Z", "0.0000015", volume_sol=12.5, trades=7, holders=100),
        metric_point("2024-05-01T14:01:00+02:00", 0.000002, buy_volume_sol="1.000000001", liquidity_sol=None),
    ]}
    response = post(client, body)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() == {"mint": MINT, "stored": 2, "decimals": 6}
    points = client.get(URL).get_json()
    assert [p["ts"] for p in points] == ["2024-05-01T12:01:00+00:00", "2024-05-01T12:00:00+00:00"]
    assert points[0]["price_sol"] == "0.000002" and points[0]["buy_volume_sol"] == "1.000000001"
    assert points[0]["liquidity_sol"] is None and points[0]["trades"] is None
    assert points[1] == {"ts": "2024-05-01T12:00:00+00:00", "price_sol": "0.0000015", "volume_sol": "12.5",
                         "buy_volume_sol": None, "sell_volume_sol": None, "market_cap_sol": None,
                         "liquidity_sol": None, "trades": 7, "holders": 100}
    coin = client.get(f"/api/coins/{MINT}").get_json()
    assert coin["mint"] == MINT and coin["decimals"] == 6 and coin["symbol"] == "WSOL"
    assert coin["latest"]["ts"] == "2024-05-01T12:01:00+00:00"


def test_same_timestamp_replaces_the_point(client, conn):
    post(client, {"metrics": [metric_point("2024-05-01T12:00:00Z", "1", volume_sol=5)]})
    response = post(client, {"metrics": [metric_point("2024-05-01T12:00:00Z", "2")]})
    assert response.status_code == 201
    assert response.get_json() == {"mint": MINT, "stored": 1, "decimals": None}
    assert count(conn, "coin_metrics") == 1
    only = client.get(URL).get_json()[0]
    assert (only["price_sol"], only["volume_sol"]) == ("2", None)


def test_decimals_and_symbol_are_recorded_and_kept(client):
    post(client, {"decimals": 9, "metrics": [metric_point("2024-05-01T12:00:00Z")]})
    post(client, {"symbol": "ABC", "metrics": [metric_point("2024-05-01T12:01:00Z")]})
    response = post(client, {"decimals": 6, "metrics": [metric_point("2024-05-01T12:02:00Z")]})
    assert response.get_json()["decimals"] == 6
    coin = client.get(f"/api/coins/{MINT}").get_json()
    assert (coin["decimals"], coin["symbol"]) == (6, "ABC")


def test_read_window_is_from_exclusive_to_inclusive_with_limit(client):
    post(client, {"metrics": [metric_point(f"2024-05-01T12:0{m}:00Z", str(m + 1)) for m in range(6)]})
    window = client.get(URL, query_string={"from": "2024-05-01T12:01:00Z", "to": "2024-05-01T12:04:00+00:00"})
    assert [p["price_sol"] for p in window.get_json()] == ["5", "4", "3"]
    limited = client.get(URL, query_string={"limit": 2}).get_json()
    assert [p["price_sol"] for p in limited] == ["6", "5"]
    assert client.get(f"/api/coins/{OTHER_MINT}/metrics").get_json() == []


@pytest.mark.parametrize("query, field", [
    ({"limit": 0}, "limit"),
    ({"limit": 5001}, "limit"),
    ({"from": "2024-05-01T12:00:00"}, "from"),
    ({"to": "yesterday"}, "to"),
])
def test_bad_read_query_is_422(client, query, field):
    response = client.get(URL, query_string=query)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]["query"]


def test_coin_without_any_data_is_404_and_bad_mint_is_422(client):
    assert client.get(f"/api/coins/{MINT}").status_code == 404
    for url in ("/api/coins/not-a-mint", "/api/coins/not-a-mint/metrics"):
        response = client.get(url)
        assert response.status_code == 422
        assert "mint" in response.get_json()["message"]


@pytest.mark.parametrize("body, field", [
    ({}, "metrics"),
    ({"metrics": []}, "metrics"),
    ({"metrics": [metric_point("2024-05-01T12:00:00")]}, "ts"),  # no timezone
    ({"metrics": [metric_point("not a time")]}, "ts"),
    ({"metrics": [{"ts": "2024-05-01T12:00:00Z"}]}, "price_sol"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z", 0)]}, "price_sol"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z", "-1")]}, "price_sol"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z", "cheap")]}, "price_sol"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z", True)]}, "price_sol"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z", "1e21")]}, "price_sol"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z", "0.0000000000000000001")]}, "price_sol"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z", volume_sol=-1)]}, "volume_sol"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z", volume_sol="0.0000000001")]}, "volume_sol"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z", trades=1.5)]}, "trades"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z", holders=-1)]}, "holders"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z", holders=2**31)]}, "holders"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z", colour="red")]}, "colour"),
    ({"metrics": [metric_point("2024-05-01T12:00:00Z"), metric_point("2024-05-01T14:00:00+02:00")]},
     "ts"),  # the same instant twice
    ({"metrics": [metric_point("2024-05-01T12:00:00Z"), metric_point("2024-05-01T12:01:00Z", "-2")]}, "price_sol"),
    ({"metrics": [metric_point(f"2024-05-01T12:00:{s % 60:02d}.{s:06d}Z") for s in range(5001)]}, "metrics"),
    ({"decimals": 19, "metrics": [metric_point("2024-05-01T12:00:00Z")]}, "decimals"),
    ({"decimals": "6", "metrics": [metric_point("2024-05-01T12:00:00Z")]}, "decimals"),
    ({"symbol": "X", "metrics": [metric_point("2024-05-01T12:00:00Z")]}, "decimals"),  # unknown mint: decimals needed
    ({"metrics": [metric_point("2024-05-01T12:00:00Z")], "extra": 1}, "extra"),
])
def test_invalid_ingest_is_422_naming_the_field_and_stores_nothing(client, conn, body, field):
    response = post(client, body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["message"]
    assert count(conn, "coin_metrics") == 0 and count(conn, "mints") == 0


def test_invalid_mint_in_path_is_422_and_stores_nothing(client, conn):
    response = post(client, {"decimals": 6, "metrics": [metric_point("2024-05-01T12:00:00Z")]}, mint="0OIl" * 10)
    assert response.status_code == 422
    assert "mint" in response.get_json()["errors"]["path"]
    assert count(conn, "coin_metrics") == 0 and count(conn, "mints") == 0


def test_a_full_batch_of_5000_points_is_stored(client, conn):
    body = {"metrics": [metric_point(f"2024-05-01T12:00:00.{s:06d}Z", str(s + 1), trades=s) for s in range(5000)]}
    assert post(client, body).get_json()["stored"] == 5000
    assert count(conn, "coin_metrics") == 5000


def test_error_field_paths_point_at_the_bad_point(client):
    body = {"metrics": [metric_point("2024-05-01T12:00:00Z"), metric_point("2024-05-01T12:01:00Z", 0)]}
    response = post(client, body)
    assert list(error_fields(response)["metrics"]) == ["1"]
    assert "price_sol" in error_fields(response)["metrics"]["1"]
