"""Simulated runs (backtests, the headless demo, --replay): one clock, one predictor builder, one walker.

Every simulated run walks market time the way the live engine meets it: at each sell-check time, the
predictions made since the previous one are evaluated in arrival order, each at its own time
(`evaluate_prediction`), then every open position is checked at the check time in opening order
(`check_position`). The same engine functions run on whichever TradingStore they are given.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from app.config import Config
from app.core.features import MetricPoint, compute_features
from app.core.states import CheckResult
from app.errors import NotFound
from app.ml import BoosterCache, predict_probability
from app.pricing.shared import PriceRecorder, interval_mint_price
from app.pricing.sources import PriceSource
from app.services.buy_engine import BuyDeps, Predictor, evaluate_prediction
from app.services.coin_metrics import feature_window
from app.services.sell_engine import SellDeps, check_position
from app.store.port import Row, TradingStore

PointsOf = Callable[[str, datetime, datetime], Sequence[Row]]  # (mint, after, until) -> metric points in (after, until]


@dataclass
class SimClock:
    """Market time, moved by the walker."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass(frozen=True)
class StoredModel:
    """A model as a simulated run reads it: its id, content hash, feature names and booster bytes."""

    id: int
    sha256: str | None
    feature_names: tuple[str, ...]
    raw: bytes


def metrics_predictor(points_of: PointsOf, models: Mapping[int, StoredModel], cache: BoosterCache,
                      max_staleness: timedelta) -> Predictor:
    """On-demand probabilities from in-memory coin metrics (the same features as the live model service)."""
    def predict(model_id: int, mint: str, at: datetime) -> float:
        model = models.get(model_id)
        if model is None:
            raise NotFound(f"Model {model_id} not found.")
        after, until = feature_window(model.feature_names, at, max_staleness)
        points = [MetricPoint(row["ts"], row) for row in points_of(mint, after, until)]
        values = compute_features(model.feature_names, points, at, max_staleness)
        booster = cache.get(model_id, model.sha256, lambda: model.raw)
        return predict_probability(booster, values)
    return predict


@dataclass
class PricePoints:
    """One mint's price history, oldest first: the latest point at or before a time, by bisection."""

    rows: list[Row] = field(default_factory=list)
    times: list[datetime] = field(default_factory=list)

    def add(self, row: Row) -> None:
        """Append a point (not older than the last one)."""
        self.rows.append(row)
        self.times.append(row["ts"])

    def latest(self, at: datetime) -> Row | None:
        """The latest point at or before `at` (None: none)."""
        index = bisect_right(self.times, at) - 1
        return self.rows[index] if index >= 0 else None


def price_index(rows: Iterable[Row]) -> dict[str, PricePoints]:
    """Price points by mint, from rows in time order."""
    index: dict[str, PricePoints] = {}
    for row in rows:
        index.setdefault(row["mint"], PricePoints()).add(row)
    return index


def check_times(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    """start, start + step, ... and end: the sell-check times of a period (both ends included)."""
    times = [start + index * step for index in range(-(-(end - start) // step))]
    return times + [end]


@dataclass
class Walker:
    """Walks a store through market time: predictions due are evaluated, then open positions are checked."""

    store: TradingStore
    clock: SimClock
    buy: BuyDeps
    sell: SellDeps
    due: Iterator[Row] = field(default_factory=lambda: iter(()))  # predictions (id, predicted_at) in arrival order
    upcoming: Row | None = None
    open_ids: list[UUID] | None = None

    def feed(self, predictions: Iterable[Row]) -> None:
        """Predictions to evaluate as the clock reaches them (in arrival order)."""
        self.due = iter(predictions)
        self.upcoming = next(self.due, None)

    def evaluate_until(self, at: datetime) -> None:
        """Evaluate every fed prediction made up to `at`, each at its own time."""
        opened = False
        while self.upcoming is not None and self.upcoming["predicted_at"] <= at:
            self.clock.now = self.upcoming["predicted_at"]
            outcomes = evaluate_prediction(self.store, self.upcoming["id"], self.buy)
            opened = opened or any(outcome.get("position_id") for outcome in outcomes)
            self.upcoming = next(self.due, None)
        if opened:
            self.open_ids = None

    def evaluate(self, prediction_ids: Iterable[UUID]) -> None:
        """Evaluate these predictions now, in order (the demo posts its own as it goes)."""
        for prediction_id in prediction_ids:
            if any(outcome.get("position_id") for outcome in evaluate_prediction(self.store, prediction_id, self.buy)):
                self.open_ids = None

    def check_open(self, at: datetime) -> None:
        """One sell check of every open position at `at`, in opening order."""
        self.clock.now = at
        if self.open_ids is None:
            self.open_ids = self.store.open_position_ids()
        outcomes = [check_position(self.store, position_id, self.sell) for position_id in self.open_ids]
        if any(outcome.get("closed") or outcome["result"] == CheckResult.NOT_OPEN for outcome in outcomes):
            self.open_ids = None


def simulated_deps(config: Config, source: PriceSource, predict: Predictor, clock: SimClock,
                   record: PriceRecorder | None = None) -> tuple[BuyDeps, SellDeps]:
    """BuyDeps and SellDeps of a simulated run: no halt from the environment, no queue, one price per mint per
    interval for checks, fills quoted exactly; the prices decided on (checks' and buys') recorded through
    `record` when given."""
    interval = config.sell_check_interval_seconds
    buy = BuyDeps(price_source=source, predict=predict, fee_bps=config.paper_fee_bps, clock=clock,
                  lease_seconds=config.prediction_lease_seconds, approval_ttl_seconds=config.approval_ttl_seconds,
                  record_price=record)
    sell = SellDeps(price_source=source, fee_bps=config.paper_fee_bps,
                    mint_price=interval_mint_price(source, interval, clock, record), clock=clock)
    return buy, sell
