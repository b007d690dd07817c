"""`python -m app backtest`: the backtest service in-process, a progress bar on stderr, the summary on stdout."""

from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from app.errors import ServiceError
from app.runner import migrated_database

BAR_WIDTH = 30


def add_command(commands: argparse._SubParsersAction) -> None:
    """Register `backtest` on the main parser's subcommands."""
    parser = commands.add_parser("backtest", help="replay stored predictions and prices through the engines")
    parser.add_argument("--buy", required=True, help="a BUY workflow id, or a JSON file with an inline BUY workflow")
    parser.add_argument("--sell", required=True, help="a SELL workflow id, or a JSON file with an inline SELL workflow")
    parser.add_argument("--from", dest="start", required=True, help="start of the period (ISO 8601 with offset)")
    parser.add_argument("--to", dest="end", required=True, help="end of the period (ISO 8601 with offset)")
    parser.add_argument("--balance", default="10", help="the TEST wallet's starting balance in SOL (default 10)")
    parser.add_argument("--prices", default="metrics", choices=("metrics", "recorded"), help="the price history")
    parser.set_defaults(func=_backtest)


def request_body(args: argparse.Namespace) -> dict[str, Any]:
    """The POST /api/backtests body these arguments describe (a file argument is read as JSON)."""
    def workflow(value: str) -> Any:
        path = Path(value)
        return json.loads(path.read_text()) if path.is_file() else value
    return {"buy": workflow(args.buy), "sell": workflow(args.sell), "from": args.start, "to": args.end,
            "start_balance_sol": args.balance, "prices": args.prices}


def _backtest(args: argparse.Namespace) -> int:
    from app.api.backtests import BacktestCreateSchema
    from app.repos import backtests as backtest_repo
    from app.services import backtests as backtest_service

    try:
        data = BacktestCreateSchema().load(request_body(args))
        with migrated_database() as (conn, config):
            row = backtest_repo.insert(conn, backtest_service.prepare_request(conn, data, config))
            result = backtest_service.run_backtest(config, row["id"], progress_bar)
    except ValidationError as exc:
        print(f"error: {json.dumps(exc.messages)}", file=sys.stderr)
        return 2
    except ServiceError as exc:
        print(f"error: {exc.message} {json.dumps(exc.errors or {})}", file=sys.stderr)
        return 2
    print(file=sys.stderr)
    print(f"backtest {row['id']}")
    print(format_summary(result, Decimal(str(data["start_balance_sol"]))))
    return 0


def progress_bar(done: Decimal) -> None:
    """Redraw the progress bar on stderr."""
    filled = int(BAR_WIDTH * done / 100)
    print(f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done:6.2f} %", end="", file=sys.stderr, flush=True)


def format_summary(result: dict[str, Any], start_balance: Decimal) -> str:
    """The summary as a fixed-width table."""
    summary = result["summary"]
    pnl = Decimal(summary["realized_pnl_sol"])
    still_open = sum(1 for trade in result["trades"] if trade["status"] == "OPEN")
    rows = [("trades (closed)", summary["trades"]), ("open at the end", still_open),
            ("wins / losses / breakeven", f"{summary['wins']} / {summary['losses']} / {summary['breakeven']}"),
            ("win rate", _pct(summary["win_rate_pct"])), ("realized P&L", f"{pnl:+.9f} SOL"),
            ("profit factor", summary["profit_factor"] or "n/a"),
            ("max drawdown", f"{Decimal(summary['max_drawdown_sol']):.9f} SOL ({_pct(summary['max_drawdown_pct'])})"),
            ("avg holding", f"{summary['avg_holding_seconds'] or 'n/a'} s")]
    rows += [(f"exits: {item['rule']}", f"{item['exits']} ({Decimal(item['realized_pnl_sol']):+.9f} SOL)")
             for item in summary["exits_by_rule"]]
    rows.append(("balance", f"{start_balance:.9f} -> {start_balance + pnl:.9f} SOL (closed trades)"))
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"| {name:<{width}} | {value} |" for name, value in rows)


def _pct(value: Any) -> str:
    return "n/a" if value is None else f"{value} %"
