"""Backtests: replay stored predictions and a price history through the live engines, in memory.

A run reads the period's inputs from the database once (models, mint decimals, coin metrics from a day
before `from`, predictions in arrival order, recorded prices), loads them into an in-memory TradingStore
with a TEST wallet and the two workflows, then walks a simulated clock over the sell-check times from
`from` to `to` (app/services/simulation.py): the same engine functions as live trading, with no database
round trip. Only the result is written (to the backtest's row). The summary is app/core/performance.py
over the closed positions; positions still open at `to` are listed, not counted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

from psycopg import Connection, Rollback

from app.config import Config
from app.core.buy import BuyWorkflow, PredictionSignal, WalletState, precheck
from app.core.chains import chain_to_json
from app.core.performance import summarize
from app.core.states import BuyOutcome
from app.db import connect
from app.errors import Invalid, NotFound, ServiceError
from app.ml import BoosterCache
from app.pricing.sources import FixedPriceSource, PriceSource, PriceUnavailable, metrics_source
from app.repos import backtests as backtest_repo
from app.repos import workflows as workflow_repo
from app.services import reports as report_service
from app.services import wallets as wallet_service
from app.services import workflows as workflow_service
from app.services.buy_engine import BuyDeps, workflow_of
from app.services.ports import Dispatcher
from app.services.sell_engine import SellDeps
from app.services.simulation import (
    PricePoints,
    SimClock,
    StoredModel,
    Walker,
    check_times,
    metrics_predictor,
    price_index,
    simulated_deps,
)
from app.store.memory import MemoryStore

WALLET_ALIAS = "backtest"
WORKFLOW_FIELDS = ("name", "type", "chain", "buy_amount_mode", "buy_amount_value", "sell_amount_pct",
                   "cooldown_seconds", "max_open_positions")
DECIMAL_FIELDS = ("buy_amount_value", "sell_amount_pct")
LIMIT_DECIMALS = ("max_daily_loss_sol", "max_position_pct")
METRICS_LOOKBACK = timedelta(days=1)  # metric history copied before `from`, for point-in-time features
PROGRESS_STEPS = 200  # progress updates over a whole run (each one a write to the backtest's row)
# The job's time limit: bench/backtest.py walks a busy day (~21,000 sell checks) in ~45 s on 2 loaded cores;
# 600 s per simulated day leaves over 10x that.
JOB_SECONDS_PER_DAY = 600
JOB_MIN_SECONDS = 3600

Progress = Callable[[Decimal], None]


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
    """The backtest's result (summary, trades, equity) for a prepared request: its inputs read once, run in memory."""
    start, end = datetime.fromisoformat(request["from"]), datetime.fromisoformat(request["to"])
    return simulate_inputs(load_inputs(main, start, end, request["prices"]), config, request, progress)


@dataclass(frozen=True)
class Inputs:
    """What a backtest replays: models, mint decimals, coin metrics (from a day before `from`), predictions
    in arrival order and (for recorded prices) the price history, each in time order."""

    models: dict[int, StoredModel]
    decimals: dict[str, int]
    metrics: list[dict[str, Any]]
    predictions: list[dict[str, Any]]
    prices: list[dict[str, Any]]


def load_inputs(conn: Connection, start: datetime, end: datetime, prices: str) -> Inputs:
    """Read a period's inputs from the database (a handful of queries, whatever the period's length)."""
    since = start - METRICS_LOOKBACK
    models = {row["id"]: StoredModel(row["id"], row["sha256"], tuple(row["feature_names"]), bytes(row["model_data"]))
              for row in backtest_repo.models_with_bytes(conn)}
    recorded = backtest_repo.prices_between(conn, since, end) if prices == "recorded" else []
    return Inputs(models, backtest_repo.mint_decimals(conn), backtest_repo.metrics_between(conn, since, end),
                  backtest_repo.predictions_between(conn, start, end), recorded)


def simulate_inputs(inputs: Inputs, config: Config, request: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Run a prepared request over its inputs on an in-memory store; returns summary, trades and equity."""
    start, end = datetime.fromisoformat(request["from"]), datetime.fromisoformat(request["to"])
    clock = SimClock(start)
    store = MemoryStore(clock)
    wallet_id = open_account(store, request)
    for mint, decimals in inputs.decimals.items():
        store.add_mint(mint, decimals)
    for mint, points in _by_mint(inputs.metrics).items():
        store.add_metrics(mint, points)
    walker = Walker(store, clock, *_deps(store, inputs, config, request, clock))
    walker.feed(_stored_predictions(store, inputs.predictions))
    walk(walker, start, end, config.sell_check_interval_seconds, progress)
    return result(store, wallet_id, Decimal(request["start_balance_sol"]))


def open_account(store: MemoryStore, request: dict[str, Any]) -> UUID:
    """The backtest's TEST wallet (balance, limits) with its two active workflows; returns the wallet id."""
    wallet_id = store.add_wallet(WALLET_ALIAS, virtual_sol_balance=Decimal(request["start_balance_sol"]),
                                 **_typed_limits(request.get("wallet") or {}))
    for kind in ("buy", "sell"):
        body = _typed(request[kind])
        chain = workflow_service.validated_chain(body["type"], body["chain"], body.get("buy_amount_mode"),
                                                 body.get("buy_amount_value"))
        store.add_workflow(wallet_id, {**body, "chain": chain_to_json(chain), "is_active": True})
    return wallet_id


def _by_mint(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        grouped.setdefault(row["mint"], []).append(row)
    return grouped


def _stored_predictions(store: MemoryStore, predictions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The predictions some BUY workflow acts on, added to the store (received when predicted), in arrival order."""
    workflows = [workflow_of(row) for row in store.rows("trading_workflows") if row["type"] == "BUY"]
    stored = []
    for row in actionable_predictions(predictions, workflows):
        prediction_id = store.add_prediction(row["mint"], row["model_id"], row["probability"], row["predicted_at"],
                                             client_id=row["client_id"], prediction=row["prediction"], tag=row["tag"],
                                             received_at=row["predicted_at"])
        stored.append({"id": prediction_id, "predicted_at": row["predicted_at"]})
    return stored


def _deps(store: MemoryStore, inputs: Inputs, config: Config, request: dict[str, Any],
          clock: SimClock) -> tuple[BuyDeps, SellDeps]:
    """The engines' dependencies on the simulated clock: the chosen price history, in-memory model features."""
    source = price_source(request["prices"], price_index(inputs.prices if request["prices"] == "recorded"
                                                        else inputs.metrics), config, clock)
    staleness = timedelta(seconds=config.feature_max_staleness_seconds)
    predict = metrics_predictor(store.metric_points, inputs.models, BoosterCache(), staleness)
    return simulated_deps(config, source, predict, clock)


def walk(walker: Walker, start: datetime, end: datetime, interval: int, progress: Progress) -> None:
    """Step the clock over the check times from start to end (both included), as the live engine meets them."""
    times = check_times(start, end, timedelta(seconds=interval))
    every = max(1, len(times) // PROGRESS_STEPS)
    for index, at in enumerate(times):
        walker.evaluate_until(at)
        walker.check_open(at)
        if (index + 1) % every == 0 and index + 1 < len(times):
            progress((Decimal(100 * (index + 1)) / len(times)).quantize(Decimal("0.01")))
    progress(Decimal(100))


def actionable_predictions(predictions: list[dict[str, Any]], workflows: list[BuyWorkflow]) -> list[dict[str, Any]]:
    """The predictions (in arrival order) without those every BUY workflow ignores.

    "Ignored" is the pure core's own verdict (`precheck`: not the trigger's model, or below its min_probability),
    which depends on the prediction alone: such a prediction changes nothing but its own stored outcome, so
    leaving it out saves the engine's work without changing a trade.
    """
    idle = WalletState(Decimal(0), 0, False)

    def acted_on(row: dict[str, Any]) -> bool:
        signal = PredictionSignal(row["mint"], row["model_id"], row["probability"])
        return row["model_id"] is not None and any(
            precheck(workflow, idle, signal, None, row["predicted_at"]).outcome is not BuyOutcome.IGNORED
            for workflow in workflows)
    return [row for row in predictions if acted_on(row)]


def price_source(prices: str, history: dict[str, PricePoints], config: Config, clock: SimClock) -> PriceSource:
    """The chosen price history read at the simulated time: coin metrics, or recorded prices."""
    staleness = timedelta(seconds=config.price_max_staleness_seconds)
    if prices == "metrics":
        def latest(mint: str) -> tuple[Decimal, datetime] | None:
            point = history[mint].latest(clock()) if mint in history else None
            return None if point is None else (point["price_sol"], point["ts"])
        return metrics_source(latest, staleness, clock)

    def recorded(mint: str) -> tuple[Decimal, dict[str, Any]]:
        found = history[mint].latest(clock()) if mint in history else None
        if found is None or clock() - found["ts"] > staleness:
            raise PriceUnavailable(f"no recorded price of {mint} within {staleness.total_seconds():.0f}s")
        return found["price_sol"], {"recorded_at": found["ts"].isoformat(), "recorded_source": found["source"]}
    return FixedPriceSource("recorded", recorded)


def result(store: MemoryStore, wallet_id: UUID, start_balance: Decimal) -> dict[str, Any]:
    """Summary (the core's performance figures), every trade numbered in opening order, and the equity curve."""
    positions = store.positions_with_trades()
    number = {row["id"]: f"{index:06d}" for index, row in enumerate(positions, 1)}
    closed = store.closed_positions(wallet_id)
    exits = store.sell_exits([row["id"] for row in closed])
    trades = [replace(trade, position_id=number[UUID(trade.position_id)])
              for trade in report_service.trades_from(closed, exits)]
    performance = asdict(summarize(trades, start_balance))
    equity = performance.pop("equity_curve")
    listed = [{"trade": number[row["id"]], **{k: v for k, v in row.items() if k != "id"}} for row in positions]
    return to_json({"summary": performance, "trades": listed, "equity": equity})
