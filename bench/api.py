"""Benchmark the workflow API: GET /api/buy/workflows with 1,000 workflows, and POST /api/buy/workflows.

Starts the real stack (`python -m app run`: gunicorn web + worker + scheduler) on embedded PostgreSQL
and Redis in a temporary data folder, seeds it through the API, then drives it with keep-alive
HTTP clients. Prints a table and writes bench/results/api.json.

    .venv/bin/python bench/api.py [--workflows 1000] [--requests 500] [--concurrency 4]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from pathlib import Path

import psycopg
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import UNLIMITED, progress, run_load, write_results
from tests.e2e.stack import Stack


def seed(base_url: str, data_dir: Path, workflows: int, auth: dict[str, str]) -> None:
    """A wallet, two models and `workflows` BUY workflows, created through the API."""
    requests.post(base_url + "/api/wallets", json={"alias": "bench"}, timeout=10, headers=auth).raise_for_status()
    url = f"postgresql://postgres:@/trading?host={data_dir / 'postgres'}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO ml_models (name) VALUES ('trigger'), ('condition')")
    session = requests.Session()
    session.headers.update(auth)
    for i in range(workflows):
        session.post(base_url + "/api/buy/workflows", json=body(i), timeout=10).raise_for_status()
        if (i + 1) % 250 == 0:
            progress(f"  seeded {i + 1}/{workflows} workflows")


def body(i: int) -> dict:
    """A two-step BUY workflow body."""
    return {
        "wallet_alias": "bench", "name": f"bench-{i}", "type": "BUY", "buy_amount_mode": "fixed",
        "buy_amount_value": 0.05,
        "chain": {"trigger": {"type": "prediction_alert", "model_id": 1, "min_probability": 0.7},
                  "conditions": [{"type": "on_demand_prediction", "model_id": 2, "operator": "gte",
                                  "threshold": 0.6}]},
    }


def main() -> None:
    """Run both measurements and print the table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tw-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        stack = Stack({"DATA_DIR": str(data_dir), "WEB_CONCURRENCY": os.environ.get("WEB_CONCURRENCY", "2"),
                       "LOG_LEVEL": "WARNING", **UNLIMITED}, Path(tmp) / "stack.log")
        try:
            stack.wait_ready()
            progress(f"stack up at {stack.base_url}; seeding {args.workflows} workflows ...")
            seed(stack.base_url, data_dir, args.workflows, stack.headers)
            progress("measuring GET /api/buy/workflows ...")
            listing = run_load(stack.base_url, lambda i: ("GET", "/api/buy/workflows", None),
                               args.requests, args.concurrency, 200, stack.headers)
            progress("measuring POST /api/buy/workflows ...")
            creating = run_load(stack.base_url, lambda i: ("POST", "/api/buy/workflows",
                                                           json.dumps(body(args.workflows + i)).encode()),
                                args.requests, args.concurrency, 201, stack.headers)
        finally:
            stack.stop()
    results = {"machine": f"{platform.machine()} {os.cpu_count()} cores, Python {platform.python_version()}",
               "web": "gunicorn gthread, 2 workers x 4 threads", "workflows": args.workflows,
               "GET /api/buy/workflows": listing, "POST /api/buy/workflows": creating}
    path = write_results("api", results)
    print("\n| endpoint | workflows stored | concurrency | requests/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|")
    for name in ("GET /api/buy/workflows", "POST /api/buy/workflows"):
        r = results[name]
        print(f"| `{name}` | {args.workflows} | {r['concurrency']} | {r['requests_per_s']} | {r['p50_ms']} "
              f"| {r['p99_ms']} | {r['errors']} |")
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
