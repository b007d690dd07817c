"""Replay identity: run the headless demo, then backtest its BUY + SELL workflows over the predictions, coin
metrics and prices it recorded, and compare the two trade lists trade by trade, to the raw unit and lamport.

Both runs go through the same engines (`evaluate_prediction`, `check_position`) on a simulated clock; the
backtest sees only what the demo stored, so any difference is a difference in what the backtest replays.
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

from psycopg import Connection

from app.config import Config
from app.core.solana import LAMPORTS_PER_SOL
from app.core.states import CloseReason
from app.demo import scenario
from app.demo.headless import DEMO_START, run_demo
from app.repos import backtests as backtest_repo
from app.services import backtests as backtest_service

OPEN_AT_END = "open at the end"


def demo_period(minutes: int) -> tuple[datetime, datetime]:
    """The demo's first and last tick: the backtest's from and to."""
    ticks = minutes * 60 // scenario.TICK_SECONDS
    return DEMO_START, DEMO_START + timedelta(seconds=scenario.TICK_SECONDS * (ticks - 1))


def replay_demo(conn: Connection, config: Config, minutes: int, seed: int,
                progress: Callable[[str], None] = lambda line: None) -> dict[str, Any]:
    """Run the demo in `conn`'s (empty) database, backtest its workflows over its recorded prices, compare."""
    config = replace(config, sell_check_interval_seconds=scenario.TICK_SECONDS)
    summary = run_demo(conn, config, minutes, seed, progress)
    start, end = demo_period(minutes)
    data = {"buy": UUID(summary["buy_workflow_id"]), "sell": UUID(summary["sell_workflow_id"]), "from_": start,
            "to": end, "start_balance_sol": scenario.START_BALANCE_SOL, "prices": "recorded"}
    progress("backtesting the same workflows over the recorded prices ...")
    request = backtest_service.prepare_request(conn, data, config)
    result = backtest_service.simulate(conn, config, request, lambda done: None)
    demo = [trade_key(trade) for trade in backtest_service.to_json(backtest_repo.positions_with_trades(conn))]
    backtest = [trade_key(trade) for trade in result["trades"]]
    identical = sum(1 for left, right in zip(demo, backtest, strict=False) if left == right)
    return {"summary": summary, "demo": demo, "backtest": backtest, "identical": identical,
            "total": max(len(demo), len(backtest))}


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
