"""Feature grammar and point-in-time computation (pure, table-driven)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from app.core.features import (
    Aggregate,
    FeatureDataError,
    FeatureSpec,
    Metric,
    MetricPoint,
    UnknownFeature,
    compute_features,
    lookback,
    parse_feature_name,
)

T0 = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)
FIVE_MIN = timedelta(minutes=5)
COLUMNS = ("price_sol", "volume_sol", "buy_volume_sol", "sell_volume_sol", "market_cap_sol", "liquidity_sol",
           "trades", "holders")
# minutes from T0 -> values in COLUMNS order; the +2 row lies in the future of T0 (look-ahead trap).
SERIES = {
    -10: ("1", "5", "3", "2", "1000", "50", 10, 100),
    -5: ("2", "1", "0.5", "0.5", "2000", None, 4, 110),
    -3: ("1.5", "2.5", "2", "0.5", "1500", "40", 6, 120),
    -1: ("3", "0.5", "0.5", "0", "3000", "45", 2, 125),
    0: ("2.4", "1", "0.75", "0.25", "2400", "60", 8, 130),
    2: ("999", "1000", "900", "100", "999000", "1", 500, 9999),
}


def point(minutes: float, row: tuple) -> MetricPoint:
    values = {c: (Decimal(v) if isinstance(v, str) else v) for c, v in zip(COLUMNS, row, strict=True)}
    return MetricPoint(T0 + timedelta(minutes=minutes), values)


# Deliberately not in time order: compute_features must sort.
POINTS = [point(m, SERIES[m]) for m in (0, 2, -10, -1, -5, -3)]


def at(minutes: float = 0, seconds: float = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, seconds=seconds)


@pytest.mark.parametrize("name, when, staleness, expected", [
    ("price_sol", at(), FIVE_MIN, 2.4),
    ("price_sol", at(seconds=-30), FIVE_MIN, 3.0),  # between points: latest at or before
    ("price_sol", at(-10), FIVE_MIN, 1.0),  # a point exactly at `at` counts
    ("price_sol_pct_change_5m", at(), FIVE_MIN, 20.0),  # base exactly at at-5m: 2 -> 2.4
    ("price_sol_pct_change_1m", at(), FIVE_MIN, -20.0),  # 3 -> 2.4
    ("price_sol_pct_change_2m", at(), FIVE_MIN, 60.0),  # base is the latest before at-2m: 1.5 -> 2.4
    ("price_sol_pct_change_10m", at(), FIVE_MIN, 140.0),
    ("volume_sol_sum_5m", at(), FIVE_MIN, 4.0),  # (at-5m, at]: the at-5m point is excluded
    ("volume_sol_sum_10m", at(), FIVE_MIN, 5.0),
    ("volume_sol_sum_11m", at(), FIVE_MIN, 10.0),
    ("volume_sol_mean_5m", at(), FIVE_MIN, 4 / 3),
    ("volume_sol_min_5m", at(), FIVE_MIN, 0.5),
    ("volume_sol_max_5m", at(), FIVE_MIN, 2.5),
    ("volume_sol_max_1m", at(), FIVE_MIN, 1.0),
    ("buy_volume_sol_sum_5m", at(), FIVE_MIN, 3.25),
    ("sell_volume_sol_sum_5m", at(), FIVE_MIN, 0.75),
    ("market_cap_sol_pct_change_5m", at(), FIVE_MIN, 20.0),
    ("liquidity_sol", at(), FIVE_MIN, 60.0),
    ("liquidity_sol_mean_3m", at(), FIVE_MIN, 52.5),
    ("trades", at(), FIVE_MIN, 8.0),
    ("trades_sum_5m", at(), FIVE_MIN, 16.0),
    ("trades_mean_10m", at(), FIVE_MIN, 5.0),
    ("holders_pct_change_10m", at(), FIVE_MIN, 30.0),
    ("holders_min_60m", at(), FIVE_MIN, 100.0),
    ("holders_max_60m", at(), FIVE_MIN, 130.0),  # the future 9999 is not seen
    # look-ahead trap: the +2m point exists in the input but lies after `at`
    ("price_sol", at(1), FIVE_MIN, 2.4),
    ("price_sol_pct_change_1m", at(1), FIVE_MIN, 0.0),
    ("volume_sol_sum_5m", at(1), FIVE_MIN, 4.0),
    ("volume_sol_max_1440m", at(1, 59), FIVE_MIN, 5.0),
    ("price_sol", at(2), FIVE_MIN, 999.0),  # once `at` reaches it, it is used
    # staleness: exactly max_staleness old is still fresh
    ("price_sol", at(7), FIVE_MIN, 999.0),
    ("price_sol", at(1), timedelta(minutes=1), 2.4),
    ("price_sol_pct_change_8m", at(), timedelta(minutes=2), 140.0),  # base -10m is exactly 2m before at-8m
])
def test_compute_feature(name, when, staleness, expected):
    assert compute_features([name], POINTS, when, staleness) == [expected]


@pytest.mark.parametrize("name, when, staleness, message", [
    ("price_sol", at(-11), FIVE_MIN, "no coin metrics at or before"),
    ("price_sol", at(7, 0.001), FIVE_MIN, "stale"),  # just over max_staleness
    ("price_sol", at(1), timedelta(seconds=59), "stale"),
    ("volume_sol_sum_5m", at(12), timedelta(minutes=9), "stale"),  # windows need a fresh latest point too
    ("price_sol_pct_change_60m", at(), FIVE_MIN, "no coin metrics at or before 2024-01-01T11:00:00+00:00"),
    ("price_sol_pct_change_8m", at(), timedelta(minutes=1), "stale"),  # base point too old
    ("volume_sol_sum_1m", at(1, 30), FIVE_MIN, "no coin metrics in the 1-minute window"),
    ("liquidity_sol", at(-5), FIVE_MIN, "liquidity_sol is missing (null)"),
    ("liquidity_sol_sum_10m", at(), FIVE_MIN, "missing (null) in the coin metric at 2024-01-01T11:55:00+00:00"),
    ("sell_volume_sol_pct_change_1m", at(), FIVE_MIN, "base sell_volume_sol of 0"),
])
def test_missing_data_is_a_feature_data_error_naming_the_feature(name, when, staleness, message):
    with pytest.raises(FeatureDataError) as raised:
        compute_features([name], POINTS, when, staleness)
    assert str(raised.value).startswith(f"{name}: ")
    assert message in str(raised.value)


def test_error_names_the_failing_feature_of_a_vector():
    with pytest.raises(FeatureDataError, match=r"^liquidity_sol: liquidity_sol is missing"):
        compute_features(["price_sol", "liquidity_sol", "trades"], POINTS, at(-5), FIVE_MIN)


def test_no_points_at_all():
    with pytest.raises(FeatureDataError, match="price_sol: no coin metrics"):
        compute_features(["price_sol"], [], T0, FIVE_MIN)


def test_vector_keeps_the_requested_order():
    names = ["trades", "price_sol", "volume_sol_sum_5m", "price_sol"]
    assert compute_features(names, POINTS, T0, FIVE_MIN) == [8.0, 2.4, 4.0, 2.4]
    assert compute_features([], POINTS, T0, FIVE_MIN) == []


def test_naive_at_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        compute_features(["price_sol"], POINTS, T0.replace(tzinfo=None), FIVE_MIN)


@pytest.mark.parametrize("name, spec", [
    ("price_sol", FeatureSpec("price_sol", Metric.PRICE_SOL, Aggregate.LATEST, 0)),
    ("price_sol_pct_change_5m", FeatureSpec("price_sol_pct_change_5m", Metric.PRICE_SOL, Aggregate.PCT_CHANGE, 5)),
    ("volume_sol_sum_5m", FeatureSpec("volume_sol_sum_5m", Metric.VOLUME_SOL, Aggregate.SUM, 5)),
    ("buy_volume_sol_mean_1m", FeatureSpec("buy_volume_sol_mean_1m", Metric.BUY_VOLUME_SOL, Aggregate.MEAN, 1)),
    ("holders_max_1440m", FeatureSpec("holders_max_1440m", Metric.HOLDERS, Aggregate.MAX, 1440)),
    ("trades_min_30m", FeatureSpec("trades_min_30m", Metric.TRADES, Aggregate.MIN, 30)),
])
def test_parse_valid_names(name, spec):
    assert parse_feature_name(name) == spec


@pytest.mark.parametrize("name", [
    "", "price", "PRICE_SOL", "price_sol_", "price_sol_sum_5", "price_sol_sum_0m", "price_sol_sum_05m",
    "price_sol_sum_1441m", "price_sol_median_5m", "price_sol_pct_5m", "volume_sol_sum_5m ", "sol_price",
    "price_sol_sum_5h", "price_sol_sum_-5m", None, 5,
])
def test_parse_invalid_names(name):
    with pytest.raises(UnknownFeature, match="Unknown feature"):
        parse_feature_name(name)


def test_window_over_a_day_says_so():
    with pytest.raises(UnknownFeature, match="at most 1440"):
        parse_feature_name("price_sol_sum_1441m")


@pytest.mark.parametrize("names, expected", [
    ([], timedelta(0)),
    (["price_sol", "trades"], timedelta(0)),
    (["price_sol", "volume_sol_sum_5m", "price_sol_pct_change_60m"], timedelta(minutes=60)),
    (["holders_max_1440m"], timedelta(days=1)),
])
def test_lookback(names, expected):
    assert lookback(names) == expected


def test_lookback_rejects_unknown_names():
    with pytest.raises(UnknownFeature):
        lookback(["price_sol", "nope"])
