"""Backtests: replay stored predictions and a price history through the live engines on a simulated clock.

A run copies the period's models, mints, coin metrics, predictions (and recorded prices) into a scratch
database, creates a TEST wallet and the two workflows there through the same services as the API, then walks
the clock over the sell-check times from `from` to `to`: at each, the predictions made since the previous one
are evaluated (`evaluate_prediction`, each at its own time), then every open position is checked
(`check_position`) at the check time. The summary is
app/core/performance.py over the closed positions; positions still open at `to` are listed, not counted.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from psycopg import Connection, Rollback

from app import bootstrap
from app.config import Config
from app.core.buy import BuyWorkflow, PredictionSignal, WalletState, precheck
from app.core.chains import AmountMode, WorkflowType, load_stored_chain
from app.core.performance import summarize
from app.core.states import BuyOutcome, CheckResult
from app.db import connect
from app.demo.database import scratch_database
from app.errors import Invalid, NotFound, ServiceError
from app.ml import BoosterCache
from app.pricing.shared import interval_mint_price
from app.pricing.sources import FixedPriceSource, PriceSource, PriceUnavailable, metrics_source
from app.repos import backtests as backtest_repo
from app.repos import positions as position_repo
from app.repos import workflows as workflow_repo
from app.services import models as model_service
from app.services import reports as report_service
from app.services import wallets as wallet_service
from app.services import workflows as workflow_service
from app.services.buy_engine import BuyDeps, evaluate_prediction
from app.services.ports import Dispatcher
from app.services.sell_engine import SellDeps, check_position
from app.store.postgres import PostgresStore

WALLET_ALIAS = "backtest"
WORKFLOW_FIELDS = ("name", "type", "chain", "buy_amount_mode", "buy_amount_value", "sell_amount_pct",
                   "cooldown_seconds", "max_open_positions")
DECIMAL_FIELDS = ("buy_amount_value", "sell_amount_pct")
LIMIT_DECIMALS = ("max_daily_loss_sol", "max_position_pct")
METRICS_LOOKBACK = timedelta(days=1)  # metric history copied before `from`, for point-in-time features
PRICE_WINDOW = timedelta(hours=6)  # market time of prices read at once per mint
PROGRESS_EVERY = 40  # check times between progress updates
# The job's time limit: bench/backtest.py walks a busy day (~21,000 sell checks) in ~45 s on 2 loaded cores;
# 600 s per simulated day leaves over 10x that.
JOB_SECONDS_PER_DAY = 600
JOB_MIN_SECONDS = 3600
INPUT_TABLES = ("ml_models", "mints", "coin_metrics", "predictions")

Progress = Callable[[Decimal], None]


@dataclass
class SimClock:
    """The backtest's market time."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Replay:
    """One run's scratch connection, request, clock and models."""

    conn: Connection
    config: Config
    request: dict[str, Any]
    clock: SimClock
    cache: BoosterCache = field(default_factory=BoosterCache)


def to_json(value: Any) -> Any:
    """A JSON-ready copy: decimals as text, times in ISO 8601, UUIDs as text."""
    def plain(item: Any) -> Any:
        if isinstance(item, datetime | date):
            return item.isoformat()
        return str(item)
    return json.loads(json.dumps(value, default=plain))


def prepare_request(conn: Connection, data: dict[str, Any], config: Config) -> dict[str, Any]:
    """Check a loaded backtest request against the database; returns it JSON-ready with both workflow bodies.

    `buy`/`sell` are a workflow id or a body already loaded by the API's workflow schema. Raises NotFound
    (unknown workflow) or Invalid (from > to, too long, no data in the period, a workflow the services refuse).
    """
    start, end = data["from_"], data["to"]
    if start >= end:
        raise _invalid("to", "Must be after from.")
    if end - start > timedelta(days=config.backtest_max_days):
        raise _invalid("to", f"The period may last at most {config.backtest_max_days} days.")
    _require_data(conn, start, end, data["prices"])
    bodies = {kind: _workflow_body(conn, kind, data[kind]) for kind in ("buy", "sell")}
    _validate_workflows(conn, bodies, data.get("wallet") or {}, config)
    return to_json({"buy": bodies["buy"], "sell": bodies["sell"], "from": start, "to": end,
                    "start_balance_sol": data["start_balance_sol"], "prices": data["prices"],
                    "wallet": data.get("wallet") or {},
                    "buy_workflow_id": _ref(data["buy"]), "sell_workflow_id": _ref(data["sell"])})


def _invalid(name: str, message: str) -> Invalid:
    return Invalid(f"{name}: {message}", {"json": {name: [message]}})


def _ref(value: Any) -> str | None:
    return str(value) if isinstance(value, UUID) else None


def _require_data(conn: Connection, start: datetime, end: datetime, prices: str) -> None:
    counts = backtest_repo.counts_in_period(conn, start, end)
    if not counts["predictions"]:
        raise _invalid("from", "No predictions stored in the period.")
    wanted = "recorded" if prices == "recorded" else "metrics"
    if not counts[wanted]:
        raise _invalid("prices", f"No {prices} prices in the period.")


def _workflow_body(conn: Connection, kind: str, ref: Any) -> dict[str, Any]:
    """The body of a stored workflow (by id), or the inline body as given; the type must match."""
    if isinstance(ref, UUID):
        row = workflow_repo.get(conn, ref)
        if row is None:
            raise NotFound(f"Workflow {ref} not found.", {"json": {kind: ["Unknown workflow."]}})
        ref = {name: row[name] for name in WORKFLOW_FIELDS}
    body = {name: ref[name] for name in WORKFLOW_FIELDS if ref.get(name) is not None}
    if body["type"] != kind.upper():
        raise _invalid(kind, f"Not a {kind.upper()} workflow.")
    return body


def _validate_workflows(conn: Connection, bodies: dict[str, dict[str, Any]], limits: dict[str, Any],
                        config: Config) -> None:
    """Create both workflows on a throw-away wallet with the API's services, then roll it all back."""
    try:
        with conn.transaction() as tx:
            _create_account(conn, bodies, Account(Decimal(1), limits), config,
                            f"bt-{uuid4().hex[:12]}")
            raise Rollback(tx)
    except ServiceError as exc:
        kind = "buy" if getattr(exc, "backtest_kind", "buy") == "buy" else "sell"
        raise type(exc)(exc.message, {"json": {kind: (exc.errors or {}).get("json", {})}}) from None


@dataclass(frozen=True)
class Account:
    """The backtest's TEST wallet: its starting balance and its limits (as PATCH /api/wallets sets them)."""

    balance: Decimal
    limits: dict[str, Any]


def _create_account(conn: Connection, bodies: dict[str, dict[str, Any]], account: Account, config: Config,
                    alias: str = WALLET_ALIAS) -> UUID:
    """The TEST wallet with its limits and its two active workflows; returns the wallet id."""
    wallet = wallet_service.create_wallet(conn, {"alias": alias, "type": "TEST",
                                                 "virtual_sol_balance": account.balance}, config)
    if account.limits:
        wallet_service.update_wallet(conn, alias, account.limits)
    for kind in ("buy", "sell"):
        try:
            workflow_service.create_workflow(conn, {**_typed(bodies[kind]), "wallet_alias": alias, "is_active": True})
        except ServiceError as exc:
            exc.backtest_kind = kind
            raise
    return wallet["id"]


def _typed_limits(limits: dict[str, Any]) -> dict[str, Any]:
    """Stored (JSON) wallet limits with their decimals back as Decimal."""
    return {name: Decimal(str(value)) if name in LIMIT_DECIMALS and value is not None else value
            for name, value in limits.items()}


def _typed(body: dict[str, Any]) -> dict[str, Any]:
    """A stored (JSON) body with its decimals back as Decimal."""
    return {**body, **{name: Decimal(str(body[name])) for name in DECIMAL_FIELDS if body.get(name) is not None}}


def create_backtest(conn: Connection, data: dict[str, Any], config: Config, dispatcher: Dispatcher) -> dict[str, Any]:
    """Check the request, store it QUEUED and enqueue its run; returns the row."""
    request = prepare_request(conn, data, config)
    row = backtest_repo.insert(conn, request)
    dispatcher.run_backtest(row["id"], job_timeout_seconds(data["to"] - data["from_"]))
    return row


def job_timeout_seconds(period: timedelta) -> int:
    """How long the RQ job may run before it is killed: JOB_SECONDS_PER_DAY per simulated day (at least an hour)."""
    return max(JOB_MIN_SECONDS, int(JOB_SECONDS_PER_DAY * period / timedelta(days=1)))


def get_backtest(conn: Connection, backtest_id: UUID) -> dict[str, Any]:
    """One backtest, or NotFound."""
    row = backtest_repo.get(conn, backtest_id)
    if row is None:
        raise NotFound(f"Backtest {backtest_id} not found.")
    return row


def run_backtest(config: Config, backtest_id: UUID, progress: Progress | None = None) -> dict[str, Any]:
    """Run a stored backtest, recording progress and the result (or the error) on its row; returns the result."""
    with connect(config.database_url) as conn:
        request = get_backtest(conn, backtest_id)["request"]
        backtest_repo.set_progress(conn, backtest_id, Decimal(0))

        def report(done: Decimal) -> None:
            backtest_repo.set_progress(conn, backtest_id, done)
            if progress is not None:
                progress(done)
        try:
            result = simulate(conn, config, request, report)
        except Exception as exc:
            backtest_repo.fail(conn, backtest_id, f"{type(exc).__name__}: {exc}")
            raise
        backtest_repo.finish(conn, backtest_id, result)
        return result


def simulate(main: Connection, config: Config, request: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """The backtest's result (summary, trades, equity) for a prepared request, in a scratch database."""
    start, end = datetime.fromisoformat(request["from"]), datetime.fromisoformat(request["to"])
    with scratch_database(config.database_url) as url, connect(url) as scratch:
        backtest_repo.throw_away_commits(scratch)
        _copy_inputs(main, scratch, request, start, end)
        replay = Replay(scratch, replace(config, database_url=url), request, SimClock(start))
        bodies = {kind: request[kind] for kind in ("buy", "sell")}
        account = Account(Decimal(request["start_balance_sol"]), _typed_limits(request.get("wallet") or {}))
        wallet_id = _create_account(scratch, bodies, account, config)
        walk(replay, start, end, progress)
        return result(scratch, wallet_id, Decimal(request["start_balance_sol"]))


def _copy_inputs(main: Connection, scratch: Connection, request: dict[str, Any], start: datetime,
                 end: datetime) -> None:
    period = {"since": start - METRICS_LOOKBACK, "start": start, "until": end}
    tables = INPUT_TABLES + (("price_history",) if request["prices"] == "recorded" else ())
    for table in tables:
        backtest_repo.copy_period(main, scratch, table, period)
    backtest_repo.reset_predictions(scratch)


def walk(replay: Replay, start: datetime, end: datetime, progress: Progress) -> None:
    """Step the clock over the check times from start to end (both included), as the live engine meets them:
    at each, evaluate the predictions made since the previous one (each at its own time), then check every
    open position at the check time with one price per mint per interval.

    The predictions are read once, in time order; the open positions are re-read only after a buy or a close.
    """
    interval = replay.config.sell_check_interval_seconds
    times = check_times(start, end, timedelta(seconds=interval))
    source = price_source(replay)
    buy = bootstrap.buy_deps(replay.config, source, _predictor(replay), clock=replay.clock)
    sell = bootstrap.sell_deps(replay.config, source, interval_mint_price(source, interval, replay.clock),
                               clock=replay.clock)
    due = iter(actionable_predictions(replay.conn))
    walker = _Walker(replay, buy, sell, next(due, None), position_repo.open_ids(replay.conn))
    for index, at in enumerate(times):
        walker.evaluate_until(at, due)
        replay.clock.now = at
        with replay.conn.pipeline():  # a check's closing UPDATE travels with the next check's first read
            walker.check_open()
        if (index + 1) % PROGRESS_EVERY == 0 and index + 1 < len(times):
            progress((Decimal(100 * (index + 1)) / len(times)).quantize(Decimal("0.01")))
    progress(Decimal(100))


def actionable_predictions(conn: Connection) -> list[dict[str, Any]]:
    """The period's predictions in time order, without those every BUY workflow ignores.

    "Ignored" is the pure core's own verdict (`precheck`: not the trigger's model, or below its min_probability),
    which depends on the prediction alone: such a prediction changes nothing but its own stored outcome, so
    leaving it out saves the engine's round trips without changing a trade.
    """
    workflows = [_buy_workflow(row) for row in workflow_repo.list_workflows(conn, type_="BUY") if row["is_active"]]
    idle = WalletState(Decimal(0), 0, False)

    def acted_on(row: dict[str, Any]) -> bool:
        signal = PredictionSignal(row["mint"], row["model_id"], row["probability"])
        return row["model_id"] is not None and any(
            precheck(workflow, idle, signal, None, row["predicted_at"]).outcome is not BuyOutcome.IGNORED
            for workflow in workflows)
    return [row for row in backtest_repo.predictions_in_order(conn) if acted_on(row)]


def _buy_workflow(row: dict[str, Any]) -> BuyWorkflow:
    return BuyWorkflow(row["id"], row["name"], load_stored_chain(WorkflowType.BUY, row["chain"]),
                       AmountMode(row["buy_amount_mode"]), row["buy_amount_value"], row["cooldown_seconds"],
                       row["max_open_positions"])


@dataclass
class _Walker:
    """The walk's state between check times: the next prediction and the open positions."""

    replay: Replay
    buy: BuyDeps
    sell: SellDeps
    upcoming: dict[str, Any] | None
    open_ids: list[UUID]

    def evaluate_until(self, at: datetime, due: Iterator[dict[str, Any]]) -> None:
        """Evaluate every prediction made up to `at`, each at its own time."""
        opened = False
        while self.upcoming is not None and self.upcoming["predicted_at"] <= at:
            self.replay.clock.now = self.upcoming["predicted_at"]
            outcomes = evaluate_prediction(PostgresStore(self.replay.conn), self.upcoming["id"], self.buy)
            opened = opened or any(outcome.get("position_id") for outcome in outcomes)
            self.upcoming = next(due, None)
        if opened:
            self.open_ids = position_repo.open_ids(self.replay.conn)

    def check_open(self) -> None:
        """One sell check of every open position at the clock's time."""
        store = PostgresStore(self.replay.conn)
        outcomes = [check_position(store, position_id, self.sell) for position_id in self.open_ids]
        if any(outcome.get("closed") or outcome["result"] == CheckResult.NOT_OPEN for outcome in outcomes):
            self.open_ids = position_repo.open_ids(self.replay.conn)


def check_times(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    """start, start + step, ... and end: the sell-check times of a period (both ends included)."""
    times = [start + index * step for index in range(-(-(end - start) // step))]
    return times + [end]


def _predictor(replay: Replay) -> Callable[[int, str, datetime], float]:
    staleness = timedelta(seconds=replay.config.feature_max_staleness_seconds)

    def predict(model_id: int, mint: str, at: datetime) -> float:
        return model_service.predict_for_mint(replay.conn, model_id, mint, at, replay.cache, staleness)[0]
    return predict


def price_source(replay: Replay) -> PriceSource:
    """The chosen price history read at the simulated time: coin metrics, or recorded prices."""
    book, clock = PriceBook(replay.conn, replay.request["prices"]), replay.clock
    staleness = timedelta(seconds=replay.config.price_max_staleness_seconds)
    if replay.request["prices"] == "metrics":
        def latest(mint: str) -> tuple[Decimal, datetime] | None:
            point = book.latest(mint, clock())
            return None if point is None else (point["price_sol"], point["ts"])
        return metrics_source(latest, staleness, clock)

    def recorded(mint: str) -> tuple[Decimal, dict[str, Any]]:
        found = book.latest(mint, clock())
        if found is None or clock() - found["ts"] > staleness:
            raise PriceUnavailable(f"no recorded price of {mint} within {staleness.total_seconds():.0f}s")
        return found["price_sol"], {"recorded_at": found["ts"].isoformat(), "recorded_source": found["source"]}
    return FixedPriceSource("recorded", recorded)


@dataclass
class PriceBook:
    """A price history read a window at a time per mint (one query per mint per PRICE_WINDOW of market time,
    not one per check): `latest(mint, at)` is the latest point at or before `at`, as the repos' point reads."""

    conn: Connection
    prices: str
    windows: dict[str, tuple[datetime, datetime, list[datetime], list[dict[str, Any]]]] = field(default_factory=dict)

    def latest(self, mint: str, at: datetime) -> dict[str, Any] | None:
        """The mint's latest price point at or before `at` (None: none stored)."""
        window = self.windows.get(mint)
        if window is None or not window[0] <= at < window[1]:
            rows = backtest_repo.price_window(self.conn, self.prices, mint, at, at + PRICE_WINDOW)
            window = self.windows[mint] = (at, at + PRICE_WINDOW, [row["ts"] for row in rows], rows)
        index = bisect_right(window[2], at) - 1
        return window[3][index] if index >= 0 else None


def result(conn: Connection, wallet_id: UUID, start_balance: Decimal) -> dict[str, Any]:
    """Summary (the core's performance figures), every trade numbered in opening order, and the equity curve."""
    positions = backtest_repo.positions_with_trades(conn)
    number = {row["id"]: f"{index:06d}" for index, row in enumerate(positions, 1)}
    trades = [replace(trade, position_id=number[UUID(trade.position_id)])
              for trade in report_service.closed_trades(conn, "wallet", wallet_id, None, None)]
    performance = asdict(summarize(trades, start_balance))
    equity = performance.pop("equity_curve")
    listed = [{"trade": number[row["id"]], **{k: v for k, v in row.items() if k != "id"}} for row in positions]
    return to_json({"summary": performance, "trades": listed, "equity": equity})
