"""The headless demo: the same scenario on a simulated clock, in-process, on a trading store.

Every 15 s of market time: store coin metrics for each demo mint, let the simulated model server post a
prediction when the trigger model says >= 50 %, evaluate the new predictions with the BUY engine in arrival
order, then check every open position (the shared walker of app/services/simulation.py). At the end the open
positions are sold, so the summary's realised P&L is exactly the wallet's balance change. The same seed gives
the same table on either store: `MemoryDemo` (the command line: no database at all) or `PostgresDemo`
(the live engines on PostgreSQL, through the same services as the API: what the replay identity test compares).
"""

from __future__ import annotations

import hashlib
import sys
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from psycopg import Connection

from app.api.models import ModelUploadSchema
from app.api.schemas import WalletCreateSchema, WorkflowCreateSchema
from app.config import Config
from app.core.chains import chain_to_json
from app.core.states import CloseReason, ExecutionResult, PositionStatus, TradeAction
from app.demo import market, scenario
from app.demo.training import demo_models
from app.ml import BoosterCache
from app.pricing.sources import sim_source
from app.repos import price_history as price_history_repo
from app.repos import reports as report_repo
from app.services import coin_metrics as coin_service
from app.services import models as model_service
from app.services import predictions as prediction_service
from app.services import wallets as wallet_service
from app.services import workflows as workflow_service
from app.services.buy_engine import Predictor
from app.services.sell_engine import sell_manually
from app.services.simulation import SimClock, StoredModel, Walker, metrics_predictor, simulated_deps
from app.store.memory import MemoryStore
from app.store.port import TradingStore
from app.store.postgres import PostgresStore

DEMO_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class DemoIds:
    """The demo's models and workflows once set up."""

    trigger_model_id: int
    condition_model_id: int
    buy_workflow_id: UUID
    sell_workflow_id: UUID


class DemoWorld(Protocol):
    """Where a headless demo runs: its store, and how the scenario's inputs get into it."""

    store: TradingStore
    clock: SimClock

    def set_up(self, seed: int, balance_sol: Decimal) -> DemoIds:
        """Wallet (holding balance_sol), trained models and the two workflows."""
        ...

    def add_points(self, mint: str, points: list[dict[str, Any]], decimals: int | None = None) -> None:
        """Store coin metric points of a mint."""
        ...

    def predictor(self) -> Predictor:
        """On-demand model probabilities from the stored metrics."""
        ...

    def post_prediction(self, item: dict[str, Any]) -> UUID:
        """Store one prediction (as the model server posts it); returns its id."""
        ...

    def record_price(self, mint: str, price: Decimal, source: str) -> None:
        """Record a decided price at market time (the replayable history)."""
        ...

    def totals(self) -> dict[str, Any]:
        """predictions, buys, rejected, closed, wins, pnl, sells_by_rule and the wallet's balance."""
        ...


def _schema_models(seed: int) -> list[dict[str, Any]]:
    return [ModelUploadSchema().load(scenario.model_body(model)) for model in demo_models(seed)]


@dataclass
class PostgresDemo:
    """The demo on PostgreSQL, set up and fed through the API's services."""

    conn: Connection
    config: Config
    clock: SimClock = field(default_factory=lambda: SimClock(DEMO_START))
    cache: BoosterCache = field(default_factory=BoosterCache)

    @property
    def store(self) -> TradingStore:
        """The trading store on this connection."""
        return PostgresStore(self.conn)

    def set_up(self, seed: int, balance_sol: Decimal) -> DemoIds:
        """Wallet, models and workflows through the same schemas and services as the API."""
        wallet_service.create_wallet(self.conn, WalletCreateSchema().load(scenario.wallet_body(balance_sol)),
                                     self.config)
        trigger, condition = (model_service.upload_model(self.conn, body) for body in _schema_models(seed))
        buy = workflow_service.create_workflow(self.conn, WorkflowCreateSchema().load(
            scenario.buy_workflow_body(trigger["id"], condition["id"])))
        sell = workflow_service.create_workflow(self.conn, WorkflowCreateSchema().load(scenario.sell_workflow_body()))
        return DemoIds(trigger["id"], condition["id"], buy["id"], sell["id"])

    def add_points(self, mint: str, points: list[dict[str, Any]], decimals: int | None = None) -> None:
        """Ingest through the coin metrics service."""
        coin_service.ingest_metrics(self.conn, mint, {"metrics": points,
                                                      **({} if decimals is None else {"decimals": decimals})})

    def predictor(self) -> Predictor:
        """The model service's point-in-time features."""
        return lambda model_id, mint, at: model_service.predict_for_mint(self.conn, model_id, mint, at, self.cache)[0]

    def post_prediction(self, item: dict[str, Any]) -> UUID:
        """Submit through the prediction service (no queue)."""
        [stored] = prediction_service.submit_predictions(self.conn, [item], lambda ids: "headless")
        return stored["id"]

    def record_price(self, mint: str, price: Decimal, source: str) -> None:
        """Into price_history at market time."""
        price_history_repo.record(self.conn, mint, price, source, self.clock())

    def totals(self) -> dict[str, Any]:
        """From the reports' SQL."""
        return {**report_repo.trading_totals(self.conn), "sells_by_rule": report_repo.sells_by_rule(self.conn),
                "balance": report_repo.wallet_balance(self.conn, scenario.WALLET)}


@dataclass
class MemoryDemo:
    """The demo on the in-memory store: no database, nothing kept."""

    config: Config
    clock: SimClock = field(default_factory=lambda: SimClock(DEMO_START))
    cache: BoosterCache = field(default_factory=BoosterCache)
    models: dict[int, StoredModel] = field(default_factory=dict)
    mints: set[str] = field(default_factory=set)
    store: MemoryStore = field(init=False)

    def __post_init__(self) -> None:
        self.store = MemoryStore(self.clock)

    def set_up(self, seed: int, balance_sol: Decimal) -> DemoIds:
        """The same bodies through the same schemas, written straight into the store."""
        wallet = WalletCreateSchema().load(scenario.wallet_body(balance_sol))
        wallet_id = self.store.add_wallet(wallet["alias"], virtual_sol_balance=wallet["virtual_sol_balance"])
        for model_id, model in enumerate(demo_models(seed), 1):
            self.models[model_id] = StoredModel(model_id, hashlib.sha256(model["data"]).hexdigest(),
                                                tuple(model["feature_names"]), model["data"])
        buy = self._workflow(wallet_id, scenario.buy_workflow_body(1, 2))
        sell = self._workflow(wallet_id, scenario.sell_workflow_body())
        return DemoIds(1, 2, buy, sell)

    def _workflow(self, wallet_id: UUID, body: dict[str, Any]) -> UUID:
        data = WorkflowCreateSchema().load(body)
        chain = workflow_service.validated_chain(data["type"], data["chain"], data.get("buy_amount_mode"),
                                                 data.get("buy_amount_value"))
        values = {k: v for k, v in data.items() if k != "wallet_alias"}
        return self.store.add_workflow(wallet_id, {**values, "chain": chain_to_json(chain)})

    def add_points(self, mint: str, points: list[dict[str, Any]], decimals: int | None = None) -> None:
        """Straight into the store (the points are the market's own, already valid)."""
        if decimals is not None:
            self.store.add_mint(mint, decimals)
            self.mints.add(mint)
        self.store.add_metrics(mint, points)

    def predictor(self) -> Predictor:
        """The same features, read from the store's metrics."""
        staleness = timedelta(seconds=self.config.feature_max_staleness_seconds)
        return metrics_predictor(self.store.metric_points, self.models, self.cache, staleness)

    def post_prediction(self, item: dict[str, Any]) -> UUID:
        """Into the store, received now."""
        return self.store.add_prediction(item["mint"], item["model_id"], item["probability"], item["predicted_at"])

    def record_price(self, mint: str, price: Decimal, source: str) -> None:
        """Into the store's price history at market time."""
        self.store.add_price(mint, price, source, self.clock())

    def totals(self) -> dict[str, Any]:
        """Counted from the store's rows."""
        return memory_totals(self.store)


def memory_totals(store: MemoryStore) -> dict[str, Any]:
    """trading_totals, sells_by_rule and the demo wallet's balance, from an in-memory store's rows."""
    pnl = [row["realized_pnl_sol"] for row in store.rows("positions") if row["status"] == PositionStatus.CLOSED]
    trades = Counter(row["action"] for row in store.rows("trade_logs"))
    sells = Counter(row["rule"] for row in store.rows("trade_logs") if row["action"] == TradeAction.SELL)
    results = Counter(row["result"] for row in store.rows("workflow_executions"))
    balance = {row["alias"]: row["virtual_sol_balance"] for row in store.rows("wallets")}[scenario.WALLET]
    return {"predictions": len(store.rows("predictions")), "buys": trades[TradeAction.BUY],
            "rejected": results[ExecutionResult.REJECTED], "closed": len(pnl),
            "wins": sum(value > 0 for value in pnl), "pnl": sum(pnl, Decimal(0)),
            "sells_by_rule": dict(sorted(sells.items())), "balance": balance}


@dataclass
class Run:
    """One headless run: its world, seed, ids and walker."""

    world: DemoWorld
    config: Config
    seed: int
    balance_sol: Decimal = scenario.START_BALANCE_SOL
    mints: list[str] = field(default_factory=list)
    ids: DemoIds | None = None
    walker: Walker | None = None


def set_up(run: Run) -> None:
    """Wallet, trained models, workflows and metric history; the walker over the world's store."""
    run.ids = run.world.set_up(run.seed, run.balance_sol)
    run.mints = market.demo_mints(run.seed)
    clock = run.world.clock
    for mint in run.mints:
        run.world.add_points(mint, market.history(mint, clock(), run.seed), market.DEMO_DECIMALS)
    buy, sell = simulated_deps(run.config, sim_source(run.seed, clock), run.world.predictor(), clock,
                               run.world.record_price)
    run.walker = Walker(run.world.store, clock, buy, sell)


def tick(run: Run) -> None:
    """One round of market time: metrics, predictions and their evaluation, sell checks."""
    now = run.world.clock()
    predict, posted = run.world.predictor(), []
    for mint in run.mints:
        run.world.add_points(mint, [market.metric_point(mint, now, run.seed)])
        probability = predict(run.ids.trigger_model_id, mint, now)
        if probability >= scenario.ALERT_MIN_PROBABILITY:
            posted.append(run.world.post_prediction({"mint": mint, "model_id": run.ids.trigger_model_id,
                                                     "probability": probability, "predicted_at": now}))
    run.walker.evaluate(posted)
    run.walker.check_open(now)


def close_all(run: Run) -> int:
    """Sell what is still open at the end (counted as 'end of demo')."""
    store = run.world.store
    open_ids = store.open_position_ids()
    for position_id in open_ids:
        sell_manually(store, position_id, Decimal(100), run.walker.sell, reason=CloseReason.END_OF_DEMO)
    return len(open_ids)


def run_demo(world: DemoWorld, config: Config, minutes: int, seed: int,
             progress: Callable[[str], None] = lambda line: None,
             balance_sol: Decimal = scenario.START_BALANCE_SOL) -> dict[str, Any]:
    """Run the scenario for `minutes` of market time in `world` from balance_sol; returns the summary."""
    config = replace(config, sell_check_interval_seconds=scenario.TICK_SECONDS)
    run = Run(world, config, seed, balance_sol)
    progress(f"training demo models and setting up (seed {seed}) ...")
    set_up(run)
    ticks = minutes * 60 // scenario.TICK_SECONDS
    for index in range(ticks):
        tick(run)
        world.clock.now += timedelta(seconds=scenario.TICK_SECONDS)
        if (index + 1) % (300 // scenario.TICK_SECONDS) == 0:
            progress(f"  {(index + 1) * scenario.TICK_SECONDS // 60:>4} / {minutes} market minutes")
    closed_at_end = close_all(run)
    return {**summarize(world.totals(), seed, minutes, closed_at_end), "balance_start_sol": balance_sol,
            "buy_workflow_id": str(run.ids.buy_workflow_id), "sell_workflow_id": str(run.ids.sell_workflow_id)}


def summarize(totals: dict[str, Any], seed: int, minutes: int, closed_at_end: int) -> dict[str, Any]:
    """Predictions, buys, sells by rule, win rate, realised P&L and the balance change."""
    return {
        "seed": seed, "market_minutes": minutes, "mints": market.DEMO_MINT_COUNT,
        "predictions": totals["predictions"], "buys": totals["buys"], "rejected": totals["rejected"],
        "sells_by_rule": totals["sells_by_rule"],
        "closed_at_end": closed_at_end, "closed_positions": totals["closed"], "wins": totals["wins"],
        "realized_pnl_sol": totals["pnl"], "balance_start_sol": scenario.START_BALANCE_SOL,
        "balance_end_sol": totals["balance"],
    }


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a small fixed-width table."""
    closed, wins = summary["closed_positions"], summary["wins"]
    rate = f"{100 * wins / closed:.1f} % ({wins}/{closed})" if closed else "n/a"
    pnl = summary["realized_pnl_sol"]
    rows = [("seed", summary["seed"]), ("market minutes", summary["market_minutes"]),
            ("mints", summary["mints"]), ("predictions", summary["predictions"]), ("buys", summary["buys"]),
            ("rejected", summary["rejected"])]
    rows += [(f"sells: {rule}", n) for rule, n in summary["sells_by_rule"].items()]
    rows += [("win rate", rate), ("realized P&L", f"{pnl:+.9f} SOL"),
             ("balance", f"{summary['balance_start_sol']:.9f} -> {summary['balance_end_sol']:.9f} SOL")]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"| {name:<{width}} | {value} |" for name, value in rows)


def main_progress(line: str) -> None:
    """Progress on stderr, so stdout holds only the table."""
    print(line, file=sys.stderr, flush=True)
