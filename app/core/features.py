"""Model features computed point-in-time from a mint's coin metrics (pure).

Grammar of a feature name (``N`` is a whole number of minutes, 1..1440, no leading zero)::

    <metric>                    the latest value at or before `at`
    <metric>_pct_change_<N>m    percent change from the latest value at or before `at - N min`
                                to the latest value at or before `at`: (now - then) / then * 100
    <metric>_sum_<N>m           sum of the values of the points with ts in (at - N min, at]
    <metric>_mean_<N>m          their mean
    <metric>_min_<N>m           their minimum
    <metric>_max_<N>m           their maximum

``<metric>`` is one of the coin_metrics columns: price_sol, volume_sol, buy_volume_sol,
sell_volume_sol, market_cap_sol, liquidity_sol, trades, holders.

Examples: ``price_sol`` (last price), ``price_sol_pct_change_5m`` (price change over 5 minutes,
in percent: 10.0 means +10 %), ``volume_sol_sum_5m`` (SOL volume traded in the last 5 minutes),
``holders_max_60m``.

Point-in-time rules (no look-ahead): only points with ts <= `at` are ever used, whatever is passed.
The latest point at or before `at` must be at most `max_staleness` old (exactly `max_staleness` is
still fresh); the base point of a percent change must likewise be at most `max_staleness` older than
`at - N min`. Every point a feature reads must carry the metric (no nulls). Any violation raises
FeatureDataError naming the feature and what is missing; an unparseable name raises UnknownFeature.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

MAX_WINDOW_MINUTES = 1440


class Metric(StrEnum):
    """A coin_metrics column a feature can read."""

    PRICE_SOL = "price_sol"
    VOLUME_SOL = "volume_sol"
    BUY_VOLUME_SOL = "buy_volume_sol"
    SELL_VOLUME_SOL = "sell_volume_sol"
    MARKET_CAP_SOL = "market_cap_sol"
    LIQUIDITY_SOL = "liquidity_sol"
    TRADES = "trades"
    HOLDERS = "holders"


class Aggregate(StrEnum):
    """How a feature turns points into one number."""

    LATEST = "latest"
    PCT_CHANGE = "pct_change"
    SUM = "sum"
    MEAN = "mean"
    MIN = "min"
    MAX = "max"


_NAME = re.compile(
    r"^(?P<metric>" + "|".join(m.value for m in Metric) + r")"
    r"(?:_(?P<aggregate>pct_change|sum|mean|min|max)_(?P<minutes>[1-9][0-9]*)m)?$"
)


class UnknownFeature(ValueError):
    """A feature name that does not follow the grammar (see the module docstring)."""


class FeatureDataError(ValueError):
    """The stored metrics cannot give a feature's value at the requested time."""


@dataclass(frozen=True)
class FeatureSpec:
    """A parsed feature name: which metric, how aggregated, over how many minutes (0 for LATEST)."""

    name: str
    metric: Metric
    aggregate: Aggregate
    minutes: int = 0

    @property
    def window(self) -> timedelta:
        """The look-back span of the feature (zero for a plain latest value)."""
        return timedelta(minutes=self.minutes)


@dataclass(frozen=True)
class MetricPoint:
    """One stored coin_metrics row: its timestamp (timezone-aware) and its metric values."""

    ts: datetime
    values: Mapping[str, Decimal | int | None]


def parse_feature_name(name: str) -> FeatureSpec:
    """Parse a feature name per the grammar; raises UnknownFeature with a message saying what is allowed."""
    match = _NAME.match(name) if isinstance(name, str) else None
    if match is None:
        raise UnknownFeature(
            f"Unknown feature {name!r}: expected <metric>, <metric>_pct_change_<N>m or "
            f"<metric>_(sum|mean|min|max)_<N>m with metric one of {', '.join(Metric)} "
            f"and N minutes in 1..{MAX_WINDOW_MINUTES} (e.g. price_sol_pct_change_5m)."
        )
    if match["aggregate"] is None:
        return FeatureSpec(name, Metric(match["metric"]), Aggregate.LATEST)
    minutes = int(match["minutes"])
    if minutes > MAX_WINDOW_MINUTES:
        raise UnknownFeature(f"Unknown feature {name!r}: the window is {minutes} minutes, at most "
                             f"{MAX_WINDOW_MINUTES} (one day) is allowed.")
    return FeatureSpec(name, Metric(match["metric"]), Aggregate(match["aggregate"]), minutes)


def lookback(feature_names: Iterable[str]) -> timedelta:
    """The longest window the features read before `at` (add max_staleness to also cover stale checks)."""
    return max((parse_feature_name(name).window for name in feature_names), default=timedelta(0))


def compute_features(
    feature_names: Sequence[str], points: Iterable[MetricPoint], at: datetime, max_staleness: timedelta
) -> list[float]:
    """The features' values at `at`, in order, from points at or before `at` (later points are ignored)."""
    if at.tzinfo is None:
        raise ValueError("`at` must be timezone-aware.")
    specs = [parse_feature_name(name) for name in feature_names]
    history = sorted((p for p in points if p.ts <= at), key=lambda p: p.ts)
    return [_compute(spec, history, at, max_staleness) for spec in specs]


def _compute(spec: FeatureSpec, history: list[MetricPoint], at: datetime, max_staleness: timedelta) -> float:
    latest = _fresh_point(spec, history, at, max_staleness)
    if spec.aggregate is Aggregate.LATEST:
        return float(_value(spec, latest))
    if spec.aggregate is Aggregate.PCT_CHANGE:
        base = _fresh_point(spec, history, at - spec.window, max_staleness)
        return _pct_change(spec, _value(spec, base), _value(spec, latest), base.ts)
    start = at - spec.window
    window = history[bisect.bisect_right(history, start, key=lambda p: p.ts):]
    if not window:
        raise FeatureDataError(f"{spec.name}: no coin metrics in the {spec.minutes}-minute window "
                               f"({start.isoformat()}, {at.isoformat()}].")
    return float(_AGGREGATES[spec.aggregate]([_value(spec, p) for p in window]))


def _fresh_point(spec: FeatureSpec, history: list[MetricPoint], t: datetime, max_staleness: timedelta) -> MetricPoint:
    """The latest point at or before t, which must be at most max_staleness older than t."""
    index = bisect.bisect_right(history, t, key=lambda p: p.ts)
    if index == 0:
        raise FeatureDataError(f"{spec.name}: no coin metrics at or before {t.isoformat()}.")
    point = history[index - 1]
    if t - point.ts > max_staleness:
        raise FeatureDataError(
            f"{spec.name}: the latest coin metric at or before {t.isoformat()} is from {point.ts.isoformat()}, "
            f"{t - point.ts} old; at most {max_staleness} is allowed (stale data).")
    return point


def _value(spec: FeatureSpec, point: MetricPoint) -> Decimal:
    raw = point.values.get(spec.metric.value)
    if raw is None:
        raise FeatureDataError(f"{spec.name}: {spec.metric} is missing (null) in the coin metric at "
                               f"{point.ts.isoformat()}.")
    return Decimal(raw)


def _pct_change(spec: FeatureSpec, base: Decimal, current: Decimal, base_ts: datetime) -> float:
    if base == 0:
        raise FeatureDataError(f"{spec.name}: cannot compute a percent change from a base {spec.metric} of 0 "
                               f"(coin metric at {base_ts.isoformat()}).")
    return float((current - base) / base * 100)


_AGGREGATES: dict[Aggregate, Callable[[list[Decimal]], Decimal]] = {
    Aggregate.SUM: sum,
    Aggregate.MEAN: lambda values: sum(values) / len(values),
    Aggregate.MIN: min,
    Aggregate.MAX: max,
}
