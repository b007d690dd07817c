"""The headless demo: the same scenario on a simulated clock, in-process, in a throw-away database.

Every 15 s of market time: store coin metrics for each demo mint, let the simulated model
server post a prediction when the trigger model says >= 50 %, evaluate it with the BUY engine,
then run the sell check of every open position. At the end the open positions are sold, so the
summary's realised P&L is exactly the wallet's balance change. The same seed gives the same table.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from psycopg import Connection

from app import bootstrap
from app.api.models import ModelUploadSchema
from app.api.schemas import WalletCreateSchema, WorkflowCreateSchema
from app.config import Config
from app.core.states import CloseReason
from app.demo import market, scenario
from app.demo.training import demo_models
from app.ml import BoosterCache
from app.pricing.shared import MintPrice, PriceRecorder, RecordingSource, interval_mint_price
from app.pricing.sources import sim_source
from app.repos import positions as position_repo
from app.repos import price_history as price_history_repo
from app.repos import reports as report_repo
from app.services import coin_metrics as coin_service
from app.services import models as model_service
from app.services import predictions as prediction_service
from app.services import wallets as wallet_service
from app.services import workflows as workflow_service
from app.services.buy_engine import BuyDeps, evaluate_prediction
from app.services.sell_engine import SellDeps, check_position, sell_manually
from app.store.postgres import PostgresStore

DEMO_START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


@dataclass
class SimClock:
    """Market time, advanced by the loop."""

    now: datetime = DEMO_START

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Run:
    """One headless run's context."""

    conn: Connection
    config: Config
    seed: int
    clock: SimClock = field(default_factory=SimClock)
    cache: BoosterCache = field(default_factory=BoosterCache)
    mints: list[str] = field(default_factory=list)
    ids: scenario.DemoIds | None = None
    check_price: MintPrice | None = None


def set_up(run: Run) -> None:
    """Wallet, trained models, workflows and metric history, through the same schemas as the API."""
    wallet_service.create_wallet(run.conn, WalletCreateSchema().load(scenario.wallet_body()), run.config)
    trigger, condition = (model_service.upload_model(run.conn, ModelUploadSchema().load(scenario.model_body(m)))
                          for m in demo_models(run.seed))
    buy = workflow_service.create_workflow(
        run.conn, WorkflowCreateSchema().load(scenario.buy_workflow_body(trigger["id"], condition["id"])))
    sell = workflow_service.create_workflow(run.conn, WorkflowCreateSchema().load(scenario.sell_workflow_body()))
    run.ids = scenario.DemoIds(trigger["id"], condition["id"], str(buy["id"]), str(sell["id"]))
    run.mints = market.demo_mints(run.seed)
    for mint in run.mints:
        coin_service.ingest_metrics(run.conn, mint, {"decimals": market.DEMO_DECIMALS,
                                                     "metrics": market.history(mint, run.clock(), run.seed)})


def _buy_deps(run: Run) -> BuyDeps:
    def predict(model_id: int, mint: str, at: datetime) -> float:
        return model_service.predict_for_mint(run.conn, model_id, mint, at, run.cache)[0]

    source = RecordingSource(sim_source(run.seed, run.clock), _recorder(run))
    return bootstrap.buy_deps(run.config, source, predict, clock=run.clock)


def _sell_deps(run: Run) -> SellDeps:
    if run.check_price is None:  # one per run, like the live shared price: one quote per mint per interval
        run.check_price = interval_mint_price(sim_source(run.seed, run.clock), scenario.TICK_SECONDS, run.clock,
                                              _recorder(run))
    return bootstrap.sell_deps(run.config, sim_source(run.seed, run.clock), run.check_price, clock=run.clock)


def _recorder(run: Run) -> PriceRecorder:
    """Store each decided price at market time, as live trading does at wall-clock time (replayable history)."""
    def record(mint: str, price: Decimal, source: str) -> None:
        price_history_repo.record(run.conn, mint, price, source, run.clock())
    return record


def tick(run: Run) -> None:
    """One round of market time: metrics, predictions and their evaluation, sell checks."""
    now = run.clock()
    buy_deps, sell_deps = _buy_deps(run), _sell_deps(run)
    for mint in run.mints:
        coin_service.ingest_metrics(run.conn, mint, {"metrics": [market.metric_point(mint, now, run.seed)]})
        probability, _ = model_service.predict_for_mint(run.conn, run.ids.trigger_model_id, mint, now, run.cache)
        if probability >= scenario.ALERT_MIN_PROBABILITY:
            item = {"mint": mint, "model_id": run.ids.trigger_model_id, "probability": probability,
                    "predicted_at": now}
            [stored] = prediction_service.submit_predictions(run.conn, [item], lambda ids: "headless")
            evaluate_prediction(PostgresStore(run.conn), stored["id"], buy_deps)
    for position_id in position_repo.open_ids(run.conn):
        check_position(PostgresStore(run.conn), position_id, sell_deps)


def close_all(run: Run) -> int:
    """Sell what is still open at the end (counted as 'end of demo')."""
    open_ids = position_repo.open_ids(run.conn)
    for position_id in open_ids:
        sell_manually(PostgresStore(run.conn), position_id, Decimal(100), _sell_deps(run),
                      reason=CloseReason.END_OF_DEMO)
    return len(open_ids)


def run_demo(conn: Connection, config: Config, minutes: int, seed: int,
             progress: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Run the scenario for `minutes` of market time; returns the summary."""
    run = Run(conn, config, seed)
    progress(f"training demo models and setting up (seed {seed}) ...")
    set_up(run)
    ticks = minutes * 60 // scenario.TICK_SECONDS
    for index in range(ticks):
        tick(run)
        run.clock.now += timedelta(seconds=scenario.TICK_SECONDS)
        if (index + 1) % (300 // scenario.TICK_SECONDS) == 0:
            progress(f"  {(index + 1) * scenario.TICK_SECONDS // 60:>4} / {minutes} market minutes")
    closed_at_end = close_all(run)
    return {**summarize(conn, seed, minutes, closed_at_end), "buy_workflow_id": run.ids.buy_workflow_id,
            "sell_workflow_id": run.ids.sell_workflow_id}


def summarize(conn: Connection, seed: int, minutes: int, closed_at_end: int) -> dict[str, Any]:
    """Predictions, buys, sells by rule, win rate, realised P&L and the balance change."""
    totals = report_repo.trading_totals(conn)
    return {
        "seed": seed, "market_minutes": minutes, "mints": market.DEMO_MINT_COUNT,
        "predictions": totals["predictions"], "buys": totals["buys"], "rejected": totals["rejected"],
        "sells_by_rule": report_repo.sells_by_rule(conn),
        "closed_at_end": closed_at_end, "closed_positions": totals["closed"], "wins": totals["wins"],
        "realized_pnl_sol": totals["pnl"], "balance_start_sol": scenario.START_BALANCE_SOL,
        "balance_end_sol": demo_balance(conn),
    }


def demo_balance(conn: Connection) -> Decimal:
    """The demo wallet's paper balance."""
    return report_repo.wallet_balance(conn, scenario.WALLET)


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

