"""Benchmark BUY evaluation: prediction-to-EXECUTED latency and predictions/s with one and two workers.

Starts the real stack (`python -m app run`) on embedded PostgreSQL/Redis with PRICE_SOURCE=sim, sets up
100 active BUY workflows (each its own wallet and trigger model, all with the same 2-condition chain over
real XGBoost models and stored coin metrics), then:
  * latency: single-prediction POSTs at a steady rate; latency = execution row's created_at - POST start;
  * throughput: batches of 100 predictions posted as fast as possible; predictions/s until all evaluated.
Every prediction buys (a new mint for its wallet), so each one runs the whole path including the paper buy.
Sell checks are pushed out to 1 h so they do not compete. Writes bench/results/buy_latency.json.

    .venv/bin/python bench/buy_latency.py [--latency-count 300] [--throughput-count 3000]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import UNLIMITED, percentile, progress, write_results
from tests.e2e.flows import FEATURES, metrics_points, mint_for
from tests.e2e.stack import Stack
from tests.factories import model_body, train_booster

WORKFLOWS = 100
MINTS = 40


AUTH: dict[str, str] = {}  # the stack's local admin key, set once it is up


def _model(name: str, seed: int) -> dict:
    """The upload body of a small trained model over FEATURES."""
    return model_body(train_booster(len(FEATURES), seed), name, feature_names=FEATURES)


def setup(base: str) -> tuple[list[int], list[str]]:
    """100 wallets and BUY workflows with their own trigger models; 2 condition models; metrics for the mints."""
    session = requests.Session()
    session.headers.update(AUTH)
    conditions = [session.post(base + "/api/models", json=_model(f"cond-{i}", 10 + i),
                               timeout=30).json()["id"] for i in range(2)]
    mints = [mint_for(f"bench-{i}") for i in range(MINTS)]
    now = datetime.now(UTC)
    for mint in mints:
        session.post(f"{base}/api/coins/{mint}/metrics", json={"decimals": 6, "metrics": metrics_points(
            Decimal("0.0001"), now)}, timeout=30).raise_for_status()
    triggers = []
    for i in range(WORKFLOWS):
        triggers.append(_workflow(session, base, i, conditions))
        if (i + 1) % 25 == 0:
            progress(f"  {i + 1}/{WORKFLOWS} workflows")
    return triggers, mints


def _workflow(session: requests.Session, base: str, i: int, conditions: list[int]) -> int:
    session.post(base + "/api/wallets", json={"alias": f"bench-{i}", "virtual_sol_balance": "100000"},
                 timeout=30).raise_for_status()
    trigger = session.post(base + "/api/models", json=_model(f"trigger-{i}", i),
                           timeout=30).json()["id"]
    chain = {"trigger": {"type": "prediction_alert", "model_id": trigger, "min_probability": 0.5},
             "conditions": [{"type": "on_demand_prediction", "model_id": m, "operator": "gte", "threshold": 0.0}
                            for m in conditions]}
    workflow = session.post(base + "/api/buy/workflows", json={
        "wallet_alias": f"bench-{i}", "name": f"bench-{i}", "type": "BUY", "buy_amount_mode": "fixed",
        "buy_amount_value": 0.01, "cooldown_seconds": 0, "max_open_positions": 100, "chain": chain}, timeout=30)
    session.patch(f"{base}/api/buy/workflows/{workflow.json()['id']}/toggle?active=true", timeout=30)
    return trigger


def prediction(triggers: list[int], mints: list[str], k: int, tag: str) -> dict:
    """The k-th prediction: a new (workflow, mint) pair, so it always buys."""
    return {"id": f"{tag}-{k}", "model_id": triggers[k % WORKFLOWS], "mint": mints[(k // WORKFLOWS) % MINTS],
            "probability": 0.9, "timestamp": datetime.now(UTC).isoformat()}


def measure_latency(base: str, db_url: str, triggers, mints, count: int, rate: float, offset: int) -> dict:
    """Single POSTs at `rate`/s from a few threads; latency = execution.created_at - POST start (ms)."""
    started: dict[str, float] = {}
    lock = threading.Lock()

    def post(k: int) -> None:
        body = prediction(triggers, mints, offset + k, "lat")
        with lock:
            started[body["id"]] = time.time()
        requests.post(base + "/api/predictions", json=body, timeout=30, headers=AUTH).raise_for_status()

    threads = []
    for k in range(count):
        thread = threading.Thread(target=post, args=(k,))
        thread.start()
        threads.append(thread)
        time.sleep(1 / rate)
    for thread in threads:
        thread.join()
    rows = _wait_all_evaluated(db_url, "lat-%", count)
    latencies = [(row["executed_at"].timestamp() - started[row["client_id"]]) * 1000 for row in rows
                 if row["executed_at"] is not None]
    return {"predictions": count, "rate_per_s": rate, "executed": len(latencies),
            "p50_ms": round(percentile(latencies, 50), 1), "p99_ms": round(percentile(latencies, 99), 1),
            "max_ms": round(max(latencies), 1)}


def _wait_all_evaluated(db_url: str, pattern: str, count: int, timeout: float = 600) -> list[dict]:
    deadline = time.monotonic() + timeout
    query = """SELECT p.client_id, p.received_at, p.evaluated_at, p.status,
                      (SELECT min(we.created_at) FROM workflow_executions we
                        WHERE we.prediction_id = p.id AND we.result = 'EXECUTED') AS executed_at
               FROM predictions p WHERE p.client_id LIKE %s"""
    with psycopg.connect(db_url, row_factory=psycopg.rows.dict_row) as conn:
        while time.monotonic() < deadline:
            rows = conn.execute(query, (pattern,)).fetchall()
            done = [r for r in rows if r["status"] != "PENDING"]
            if len(done) >= count:
                return rows
            time.sleep(0.2)
    raise RuntimeError(f"only {len(done)}/{count} predictions evaluated in {timeout}s")


def measure_throughput(base: str, db_url: str, triggers, mints, count: int, tag: str, offset: int) -> dict:
    """Batches of 100 posted as fast as possible; predictions/s from first receipt to last evaluation."""
    session = requests.Session()
    session.headers.update(AUTH)
    posting = time.perf_counter()
    for start in range(0, count, 100):
        batch = [prediction(triggers, mints, offset + k, tag) for k in range(start, min(count, start + 100))]
        session.post(base + "/api/predictions", json=batch, timeout=60).raise_for_status()
    posting = time.perf_counter() - posting
    rows = _wait_all_evaluated(db_url, f"{tag}-%", count)
    first = min(r["received_at"] for r in rows)
    last = max(r["evaluated_at"] for r in rows)
    executed = sum(1 for r in rows if r["executed_at"] is not None)
    seconds = (last - first).total_seconds()
    return {"predictions": count, "executed": executed, "seconds": round(seconds, 2),
            "predictions_per_s": round(count / seconds, 1), "posting_seconds": round(posting, 2)}


def run(workers: int, args) -> dict:
    """One stack with `workers` worker processes: latency then throughput."""
    with tempfile.TemporaryDirectory(prefix="tw-bench-buy-") as tmp:
        data = Path(tmp) / "data"
        stack = Stack({"DATA_DIR": str(data), "PRICE_SOURCE": "sim", "WORKER_PROCESSES": str(workers),
                       "SELL_CHECK_INTERVAL_SECONDS": "3600", "LOG_LEVEL": "WARNING",
                       "FEATURE_MAX_STALENESS_SECONDS": "3600", **UNLIMITED}, Path(tmp) / "stack.log")
        try:
            stack.wait_ready()
            AUTH.update(stack.headers)
            progress(f"[{workers} worker(s)] stack up; creating {WORKFLOWS} workflows ...")
            triggers, mints = setup(stack.base_url)
            progress(f"[{workers} worker(s)] latency: {args.latency_count} predictions at {args.rate}/s ...")
            latency = measure_latency(stack.base_url, stack.db_url, triggers, mints, args.latency_count,
                                      args.rate, 0)
            progress(f"[{workers} worker(s)] throughput: {args.throughput_count} predictions in batches ...")
            throughput = measure_throughput(stack.base_url, stack.db_url, triggers, mints, args.throughput_count,
                                            "tp", args.latency_count)
        finally:
            stack.stop()
    return {"workers": workers, "latency": latency, "throughput": throughput}


def main() -> None:
    """Run with one and with two workers; print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-count", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--throughput-count", type=int, default=3000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    if args.latency_count + args.throughput_count > WORKFLOWS * MINTS:
        sys.exit(f"at most {WORKFLOWS * MINTS} predictions (each must buy a new mint for its wallet)")
    runs = [run(workers, args) for workers in args.workers]
    results = {"machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
               "workflows": WORKFLOWS, "conditions": 2, "price_source": "sim", "runs": runs}
    path = write_results("buy_latency", results)
    print("\n| workers | latency p50 ms | latency p99 ms | (at rate/s) | predictions/s sustained | executed |")
    print("|---|---|---|---|---|---|")
    for r in runs:
        lat, thr = r["latency"], r["throughput"]
        print(f"| {r['workers']} | {lat['p50_ms']} | {lat['p99_ms']} | {lat['rate_per_s']} | "
              f"{thr['predictions_per_s']} | {thr['executed']}/{thr['predictions']} |")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
