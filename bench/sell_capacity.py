"""Benchmark the SELL monitor: can N open positions be checked every 15 s?

For each N (default 1,000 / 5,000 / 10,000 positions over M = N/10 mints) and each worker count, starts
the real stack (`python -m app run`: web, workers, rq-scheduler) on embedded PostgreSQL/Redis with
PRICE_SOURCE=jupiter against a local Jupiter-shaped server, inserts N OPEN positions on 100 TEST wallets
whose active SELL workflow never fires, lets the scheduler's reconciler schedule them, warms up one
interval, then measures for `--intervals` intervals:
  * check lag: when the check finished - when rq-scheduler had it due (the previous enqueue + interval),
    from each job's last results (RQ keeps 10 per job);
  * missed checks: gaps between two checks of a position longer than 1.5 intervals.
Writes bench/results/sell_capacity.json.

    .venv/bin/python bench/sell_capacity.py [--sizes 1000 5000 10000] [--workers 1 2 3] [--also 6000x2 7500x2]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import psycopg
import redis
from rq.results import Result

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import itertools

from bench.common import percentile, progress, write_results
from tests.e2e.flows import mint_for
from tests.e2e.stack import Stack
from tests.fakes.jupiter_server import FakeJupiter

INTERVAL = 15
WALLETS = 100
NEVER_FIRES = {"rules": [{"type": "stop_loss", "percent": -99, "from": "entry"},
                         {"type": "take_profit", "percent": 100000}]}


def insert_positions(db_url: str, positions: int, mints: list[str]) -> None:
    """100 wallets with an active SELL workflow that never fires, and N OPEN positions over the mints."""
    with psycopg.connect(db_url, autocommit=True) as conn, conn.transaction():
        conn.execute("INSERT INTO mints (mint, decimals) SELECT unnest(%s::text[]), 6", (mints,))
        conn.execute("INSERT INTO wallets (alias, virtual_sol_balance) SELECT 'w' || i, 1000 "
                     "FROM generate_series(1, %s) i", (WALLETS,))
        conn.execute("""INSERT INTO trading_workflows (wallet_id, name, type, is_active, chain)
                        SELECT id, 'exits', 'SELL', TRUE, %s FROM wallets""", (psycopg.types.json.Jsonb(NEVER_FIRES),))
        conn.execute(
            """INSERT INTO positions (wallet_id, mint, token_decimals, initial_tokens_raw, tokens_raw, sol_spent,
                   entry_price_sol, peak_price_sol)
               SELECT w.id, (%(mints)s::text[])[1 + (i %% %(m)s)], 6, 1000000000, 1000000000, 0.1, 0.0001, 0.0001
               FROM generate_series(0, %(n)s - 1) i
               JOIN (SELECT id, row_number() OVER (ORDER BY alias) - 1 AS k FROM wallets) w
                 ON w.k = (i / %(m)s) %% %(wallets)s""",
            {"mints": mints, "m": len(mints), "n": positions, "wallets": WALLETS})


def collect(redis_url: str, position_ids: list[str], start: float, end: float) -> dict:
    """Lags (s) and missed checks of the window [start, end] from the jobs' stored results.

    A missed check is a gap between two consecutive checks of a position longer than 1.5 intervals
    (rq-scheduler schedules the next run one interval after each enqueue, so gaps are 15 s plus the lag).
    """
    client = redis.Redis.from_url(redis_url)
    lags: list[float] = []
    missed = 0
    for position_id in position_ids:
        runs = _results(client, position_id)
        for previous, current in itertools.pairwise(runs):
            if not start <= current["done_at"] <= end:
                continue
            if current["done_at"] - previous["done_at"] > 1.5 * INTERVAL:
                missed += 1
            if previous.get("enqueued_at"):
                lags.append(current["done_at"] - (previous["enqueued_at"] + INTERVAL))
    return {"checks": len(lags), "missed_checks": missed,
            "lag_p50_s": round(percentile(lags, 50), 3) if lags else None,
            "lag_p99_s": round(percentile(lags, 99), 3) if lags else None,
            "lag_max_s": round(max(lags), 3) if lags else None}


class _JobRef:
    """What rq's Result.all needs of a job: its id and connection."""

    def __init__(self, job_id: str, connection: redis.Redis):
        self.id = job_id
        self.connection = connection
        self.serializer = None


def _results(client: redis.Redis, position_id: str) -> list[dict]:
    """A sell job's stored successful return values, oldest first."""
    job = _JobRef(f"sell-{position_id}", client)
    values = []
    for result in Result.all(job):
        if result.type == Result.Type.SUCCESSFUL and isinstance(result.return_value, dict):
            values.append(result.return_value)
    return sorted(values, key=lambda v: v["done_at"])


def run(positions: int, workers: int, intervals: int) -> dict:
    """One stack, N positions, `workers` worker processes."""
    mints = [mint_for(f"cap-{i}") for i in range(max(1, positions // 10))]
    with FakeJupiter() as jupiter, tempfile.TemporaryDirectory(prefix="tw-bench-sell-") as tmp:
        for mint in mints:
            jupiter.set_price(mint, Decimal("0.0001"), 6)
        stack = Stack({"DATA_DIR": str(Path(tmp) / "data"), "PRICE_SOURCE": "jupiter",
                       "JUPITER_BASE_URL": jupiter.base_url, "JUPITER_RATE_LIMIT_PER_MIN": "100000",
                       "WORKER_PROCESSES": str(workers), "SELL_CHECK_INTERVAL_SECONDS": str(INTERVAL),
                       "LOG_LEVEL": "WARNING"}, Path(tmp) / "stack.log")
        try:
            stack.wait_ready()
            insert_positions(stack.db_url, positions, mints)
            redis.Redis.from_url(stack.redis_url).delete("tw:maintenance:sentinel")  # reconcile now
            progress(f"[N={positions}, {workers} worker(s)] {positions} positions scheduled; warming up ...")
            time.sleep(INTERVAL + 5)
            start = time.time()
            progress(f"[N={positions}, {workers} worker(s)] measuring {intervals} intervals ...")
            time.sleep(intervals * INTERVAL)
            end = time.time()
            with psycopg.connect(stack.db_url) as conn:
                ids = [str(row[0]) for row in conn.execute("SELECT id FROM positions WHERE status = 'OPEN'")]
            stats = collect(stack.redis_url, ids, start, end)
            quotes = len(jupiter.requests)
        finally:
            stack.stop()
    return {"positions": positions, "mints": len(mints), "workers": workers, "interval_s": INTERVAL,
            "window_s": intervals * INTERVAL, "jupiter_quotes": quotes, **stats}


def main() -> None:
    """Run the grid and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 5000, 10000])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--intervals", type=int, default=6)
    parser.add_argument("--also", nargs="*", default=["6000x2", "7500x2"],
                        help="extra POSITIONSxWORKERS runs (default: around the limit found)")
    args = parser.parse_args()
    grid = [(n, w) for n in args.sizes for w in args.workers]
    grid += [tuple(int(part) for part in extra.split("x")) for extra in args.also]
    runs = [run(n, w, args.intervals) for n, w in sorted(set(grid))]
    results = {"machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
               "runs": runs}
    path = write_results("sell_capacity", results)
    print("\n| positions | mints | workers | checks measured | missed | lag p50 s | lag p99 s | lag max s |")
    print("|---|---|---|---|---|---|---|---|")
    for r in runs:
        print(f"| {r['positions']} | {r['mints']} | {r['workers']} | {r['checks']} | {r['missed_checks']} | "
              f"{r['lag_p50_s']} | {r['lag_p99_s']} | {r['lag_max_s']} |")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
