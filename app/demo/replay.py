"""Replay identity: run the headless demo, then backtest its BUY + SELL workflows over the predictions, coin
metrics and prices it recorded, and compare the two trade lists trade by trade, to the raw unit and lamport.

Both runs go through the same engines (`evaluate_prediction`, `check_position`) on a simulated clock: the
demo on its world's store (PostgreSQL through the API's services, or memory), the backtest always in memory.
The backtest sees only what the demo stored, so any difference is a difference in what the backtest replays.
Positions the demo sold at its end ("end_of_demo") are still open at the backtest's `to`: the comparison
counts them as open at the end, and compares every sell before it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from app.config import Config
from app.core.solana import LAMPORTS_PER_SOL
from app.core.states import CloseReason
from app.demo import scenario
from app.demo.headless import DEMO_START, DemoWorld, MemoryDemo, PostgresDemo, run_demo
from app.repos import backtests as backtest_repo
from app.services import backtests as backtest_service

OPEN_AT_END = "open at the end"


def demo_period(minutes: int) -> tuple[datetime, datetime]:
    """The demo's first and last tick: the backtest's from and to."""
    ticks = minutes * 60 // scenario.TICK_SECONDS
    return DEMO_START, DEMO_START + timedelta(seconds=scenario.TICK_SECONDS * (ticks - 1))


def replay_demo(world: DemoWorld, config: Config, minutes: int, seed: int,
                progress: Callable[[str], None] = lambda line: None,
                balance_sol: Decimal = scenario.START_BALANCE_SOL) -> dict[str, Any]:
    """Run the demo in `world` (empty), backtest its workflows over its recorded prices in memory, compare."""
    config = replace(config, sell_check_interval_seconds=scenario.TICK_SECONDS)
    summary = run_demo(world, config, minutes, seed, progress, balance_sol)
    start, end = demo_period(minutes)
    progress("backtesting the same workflows over the recorded prices ...")
    inputs, request, demo_trades = _recorded(world, config, summary, start, end)
    result = backtest_service.simulate_inputs(inputs, config, request, lambda done: None)
    demo = [trade_key(trade) for trade in backtest_service.to_json(demo_trades)]
    backtest = [trade_key(trade) for trade in result["trades"]]
    identical = sum(1 for left, right in zip(demo, backtest, strict=False) if left == right)
    return {"summary": summary, "demo": demo, "backtest": backtest, "identical": identical,
            "total": max(len(demo), len(backtest))}


def _recorded(world: DemoWorld, config: Config, summary: dict[str, Any], start: datetime,
              end: datetime) -> tuple[backtest_service.Inputs, dict[str, Any], list[dict[str, Any]]]:
    """What the demo stored (the backtest's inputs and request) and the demo's own trades."""
    data = {"buy": UUID(summary["buy_workflow_id"]), "sell": UUID(summary["sell_workflow_id"]), "from_": start,
            "to": end, "start_balance_sol": summary["balance_start_sol"], "prices": "recorded"}
    if isinstance(world, PostgresDemo):
        request = backtest_service.prepare_request(world.conn, data, config)
        inputs = backtest_service.load_inputs(world.conn, start, end, "recorded")
        return inputs, request, backtest_repo.positions_with_trades(world.conn)
    return memory_inputs(world, start, end), memory_request(world, data), world.store.positions_with_trades()


def memory_inputs(world: MemoryDemo, start: datetime, end: datetime) -> backtest_service.Inputs:
    """A memory demo's recorded inputs, as load_inputs reads them from a database."""
    store = world.store
    since = start - backtest_service.METRICS_LOOKBACK
    mints = sorted(world.mints)
    metrics = [{**row, "mint": mint} for mint in mints for row in reversed(store.metric_points(mint, since, end))]
    prices = [{**row, "mint": mint} for mint in mints for row in store.price_history(mint)]
    predictions = [dict(row) for row in store.rows("predictions")]
    return backtest_service.Inputs(world.models, {mint: store.mint_decimals(mint) for mint in mints}, metrics,
                                   _between(predictions, "predicted_at", start, end, inclusive=True),
                                   _between(prices, "ts", since, end))


def _between(rows: list[dict[str, Any]], key: str, start: datetime, end: datetime,
             inclusive: bool = False) -> list[dict[str, Any]]:
    """Rows whose `key` is in (start, end] ([start, end] when inclusive), in their order."""
    return [row for row in rows if (start <= row[key] if inclusive else start < row[key]) and row[key] <= end]


def memory_request(world: MemoryDemo, data: dict[str, Any]) -> dict[str, Any]:
    """The backtest request of a memory demo's workflows (already validated when the demo stored them)."""
    workflows = {row["id"]: row for row in world.store.rows("trading_workflows")}
    bodies = {kind: {name: workflows[data[kind]][name] for name in backtest_service.WORKFLOW_FIELDS
                     if workflows[data[kind]][name] is not None} for kind in ("buy", "sell")}
    return backtest_service.to_json({**bodies, "from": data["from_"], "to": data["to"], "wallet": {},
                                     "start_balance_sol": data["start_balance_sol"], "prices": data["prices"]})


def trade_key(trade: dict[str, Any]) -> dict[str, Any]:
    """What must match: the buy (mint, time, lamports, raw tokens) and every rule's sell (time, rule, raw, lamports)."""
    sells = [{"at": _time(sell["at"]), "rule": sell["rule"], "tokens_raw": int(sell["token_amount_raw"]),
              "lamports": _lamports(sell["sol_amount"]), "fee_lamports": _lamports(sell["fee_sol"])}
             for sell in trade["sells"] if sell["rule"] != CloseReason.END_OF_DEMO]
    ended = trade["close_reason"] if trade["status"] == "CLOSED" else OPEN_AT_END
    return {"mint": trade["mint"], "at": _time(trade["opened_at"]), "lamports": _lamports(trade["sol_spent"]),
            "tokens_raw": int(trade["initial_tokens_raw"]), "sells": sells,
            "end": OPEN_AT_END if ended == CloseReason.END_OF_DEMO else ended}


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _lamports(sol: str) -> int:
    return int(Decimal(sol) * LAMPORTS_PER_SOL)


def format_replay(report: dict[str, Any]) -> str:
    """The two trade lists side by side, then `replay: N/N trades identical`."""
    demo, backtest = report["demo"], report["backtest"]
    rows = [(str(i + 1), _describe(demo, i), _describe(backtest, i),
             "==" if i < min(len(demo), len(backtest)) and demo[i] == backtest[i] else "!=")
            for i in range(report["total"])]
    width = max([len(row[1]) for row in rows] + [len("demo (live engines, sim market)")])
    lines = [f"{'#':>3}  {'demo (live engines, sim market)':<{width}}  ==  backtest (recorded prices)"]
    lines += [f"{n:>3}  {left:<{width}}  {same}  {right}" for n, left, right, same in rows]
    lines.append(f"replay: {report['identical']}/{report['total']} trades identical")
    return "\n".join(lines)


def _describe(trades: list[dict[str, Any]], index: int) -> str:
    if index >= len(trades):
        return "-"
    trade = trades[index]
    exits = " ".join(f"{sell['rule']}@{sell['at']:%H:%M:%S}:{sell['tokens_raw']}raw>{sell['lamports']}L"
                     for sell in trade["sells"])
    end = "" if trade["end"] != OPEN_AT_END else " open"
    return f"{trade['at']:%H:%M:%S} {trade['mint'][:4]} {trade['lamports']}L>{trade['tokens_raw']}raw {exits}{end}"
