"""Benchmark a backtest: 30 days, 10 mints, 100,000 predictions, a sell check of every open position each 15 s.

Builds the inputs in a scratch database (on DATABASE_URL's server, or embedded PostgreSQL when unset): 10 mints
whose price follows a seeded random walk, coin metrics each minute (and, for `--prices recorded`, a recorded
price each 15 s), 100,000 predictions at random times with uniform probabilities. Then runs the backtest
service exactly as the RQ job does (`run_backtest`: read the inputs once, walk the clock over the in-memory
trading store, store the result) with a progress bar, and prints time, simulated days per second and trades.
Writes bench/results/backtest.json (or backtest_<prices>.json for recorded prices).

    .venv/bin/python bench/backtest.py [--days 30] [--mints 10] [--predictions 100000] [--prices metrics]
                                       [--profile out.prof]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import platform
import random
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app.api.backtests import BacktestCreateSchema
from app.cli_backtest import format_summary, progress_bar
from app.config import load_config
from app.db import connect
from app.demo.database import scratch_database
from app.demo.market import demo_mints
from app.repos import backtests as backtest_repo
from app.services import backtests as backtest_service
from bench.common import progress, write_results

START = datetime(2026, 10, 1, tzinfo=UTC)
SEED = 42
BUY = {"name": "bench buyer", "chain": {"trigger": {"type": "prediction_alert", "model_id": 1, "min_probability": 0.9},
                                        "conditions": []},
       "buy_amount_mode": "fixed", "buy_amount_value": "0.1", "cooldown_seconds": 900, "max_open_positions": 5}
SELL = {"name": "bench exits", "chain": {"rules": [
    {"type": "stop_loss", "percent": -6, "from": "entry"}, {"type": "trailing_stop", "percent": -4, "from": "peak"},
    {"type": "take_profit", "percent": 5, "sell_pct": 50}, {"type": "take_profit", "percent": 10},
    {"type": "timeout", "minutes": 120}]}}


def price_paths(mints: list[str], start: datetime, end: datetime, step: timedelta) -> dict[str, list[tuple]]:
    """A seeded random walk per mint: [(ts, price_sol)] every `step` over [start, end]."""
    rng = random.Random(SEED)
    paths: dict[str, list[tuple]] = {}
    points = int((end - start) / step) + 1
    for mint in mints:
        price, path = 10 ** rng.uniform(-7, -4), []
        for index in range(points):
            price *= 1 + rng.gauss(0, 0.004)
            path.append((start + index * step, Decimal(repr(price)).quantize(Decimal("1e-18"))))
        paths[mint] = path
    return paths


def seed_inputs(conn, days: int, mint_count: int, predictions: int, recorded: bool) -> None:
    """Mints, one model, coin metrics each minute (one day before the period too), predictions, recorded prices."""
    mints = demo_mints(SEED, mint_count, prefix="bench")
    start, end = START - timedelta(days=1), START + timedelta(days=days)
    conn.execute("INSERT INTO ml_models (name) VALUES ('bench trigger')")
    conn.execute("INSERT INTO mints (mint, decimals) SELECT unnest(%s::text[]), 6", (mints,))
    step = timedelta(seconds=15 if recorded else 60)
    paths = price_paths(mints, start, end, step)
    _copy(conn, "coin_metrics (mint, ts, price_sol, volume_sol)",
          ((mint, ts, price, Decimal("1")) for mint, path in paths.items()
           for ts, price in path if ts.second == 0))
    if recorded:
        _copy(conn, "price_history (mint, ts, price_sol, source)",
              ((mint, ts, price, "jupiter") for mint, path in paths.items() for ts, price in path))
    rng = random.Random(SEED + 1)
    seconds = days * 86_400
    _copy(conn, "predictions (mint, model_id, probability, predicted_at, status)",
          ((rng.choice(mints), 1, rng.random(), START + timedelta(seconds=rng.uniform(0, seconds)), "EVALUATED")
           for _ in range(predictions)))
    conn.execute("ANALYZE")


def _copy(conn, target: str, rows) -> None:
    with conn.cursor().copy(f"COPY {target} FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def run(args: argparse.Namespace) -> dict:
    """Seed a scratch database, run one backtest through the service, return the figures."""
    config = load_config()
    with scratch_database(config.database_url) as url, connect(url) as conn:
        config = replace(config, database_url=url, sell_check_interval_seconds=15)
        started = time.perf_counter()
        progress(f"seeding {args.days} days, {args.mints} mints, {args.predictions:,} predictions ...")
        seed_inputs(conn, args.days, args.mints, args.predictions, args.prices == "recorded")
        seeded = time.perf_counter() - started
        body = {"buy": BUY, "sell": SELL, "from": START.isoformat(),
                "to": (START + timedelta(days=args.days)).isoformat(), "start_balance_sol": "100",
                "prices": args.prices, "wallet": {"breaker_losing_sells": 1000}}
        row = backtest_repo.insert(conn, backtest_service.prepare_request(
            conn, BacktestCreateSchema().load(body), config))
        progress(f"seeded in {seeded:.1f} s; backtesting {args.days} days of 15 s checks ...")
        profiler = cProfile.Profile() if args.profile else None
        started = time.perf_counter()
        if profiler:
            profiler.enable()
        result = backtest_service.run_backtest(config, row["id"], progress_bar)
        if profiler:
            profiler.disable()
            profiler.dump_stats(args.profile)
        elapsed = time.perf_counter() - started
    print(file=sys.stderr)
    print(format_summary(result, Decimal(100)), file=sys.stderr)
    trades = len(result["trades"])
    return {"days": args.days, "mints": args.mints, "predictions": args.predictions, "prices": args.prices,
            "check_interval_s": 15, "seconds": round(elapsed, 2), "simulated_days_per_s": round(args.days / elapsed, 3),
            "positions": trades, "closed_trades": result["summary"]["trades"],
            "sells": sum(len(trade["sells"]) for trade in result["trades"]), "seed_seconds": round(seeded, 1)}


def main() -> int:
    """Run the benchmark, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--mints", type=int, default=10)
    parser.add_argument("--predictions", type=int, default=100_000)
    parser.add_argument("--prices", choices=("metrics", "recorded"), default="metrics")
    parser.add_argument("--profile", help="write a cProfile of the backtest to this file")
    args = parser.parse_args()
    figures = run(args)
    if args.profile:
        _print_profile(args.profile)
    print(f"| {'prices':<8} | {'days':>4} | {'mints':>5} | {'predictions':>11} | {'time s':>7} | "
          f"{'sim days/s':>10} | {'positions':>9} | {'sells':>5} |")
    print(f"| {figures['prices']:<8} | {figures['days']:>4} | {figures['mints']:>5} | {figures['predictions']:>11,} | "
          f"{figures['seconds']:>7} | {figures['simulated_days_per_s']:>10} | {figures['positions']:>9} | "
          f"{figures['sells']:>5} |")
    name = "backtest" if args.prices == "metrics" else f"backtest_{args.prices}"
    results = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
               "measured_at": datetime.now(UTC).isoformat(timespec="seconds"), **figures}
    print(f"wrote {write_results(name, results)}", file=sys.stderr)
    return 0


def _print_profile(path: str) -> None:
    import pstats
    out = io.StringIO()
    pstats.Stats(path, stream=out).sort_stats("cumulative").print_stats(25)
    print(out.getvalue(), file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
