"""Killed buy jobs: every prediction reaches a final status within a minute, and none buys twice.

Real processes: `python -m app run` (web, a supervised worker, the scheduler) on embedded PostgreSQL
and Redis, a local Jupiter server whose quotes take a second, so `kill -9` lands mid-evaluation.
"""

from __future__ import annotations

import os
import signal
import time
from decimal import Decimal
from pathlib import Path

import pytest

from tests.e2e.flows import api, db, metrics_points, post_prediction, wait_for
from tests.e2e.stack import Stack
from tests.factories import buy_body, mint_for, model_body, train_booster, wallet_body
from tests.fakes.jupiter_server import FakeJupiter

pytestmark = pytest.mark.e2e

PRICE = Decimal("0.0002")
PREDICTIONS = 12


def descendants(pid: int) -> dict[int, str]:
    """pid -> command line of every live process below `pid`."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = {}, [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            try:
                found[child] = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            todo.append(child)
    return found


def worker_pids(stack: Stack) -> list[int]:
    """The RQ worker processes (not their supervisor) of the stack."""
    return [pid for pid, cmd in descendants(stack.process.pid).items() if "jobs.worker --single" in cmd]


def set_up(stack: Stack, jupiter: FakeJupiter, mints: list[str]) -> int:
    """A paper wallet, one trigger model and a trigger-only BUY workflow; metrics and prices for each mint."""
    from datetime import UTC, datetime

    api(stack, "POST", "/api/wallets", json=wallet_body("recover", virtual_sol_balance="10"))
    trigger = api(stack, "POST", "/api/models", json=model_body(train_booster(seed=1), "recover-trigger"))["id"]
    for mint in mints:
        jupiter.set_price(mint, PRICE, 6)
        api(stack, "POST", f"/api/coins/{mint}/metrics",
            json={"decimals": 6, "metrics": metrics_points(PRICE, datetime.now(UTC))})
    workflow = api(stack, "POST", "/api/buy/workflows", json=buy_body(
        trigger, min_probability=0.5, wallet_alias="recover", name="recover", buy_amount_value=0.1,
        cooldown_seconds=0, max_open_positions=100))
    api(stack, "PATCH", f"/api/buy/workflows/{workflow['id']}/toggle?active=true")
    return trigger


def test_killed_buy_jobs_every_prediction_final_within_a_minute_and_none_buys_twice(tmp_path):
    with FakeJupiter() as jupiter:
        stack = Stack({"DATA_DIR": str(tmp_path / "data"), "PRICE_SOURCE": "jupiter",
                       "JUPITER_BASE_URL": jupiter.base_url, "WORKER_PROCESSES": "2",
                       "PREDICTION_LEASE_SECONDS": "3"}, tmp_path / "stack.log")
        try:
            stack.wait_ready()
            mints = [mint_for(f"recover-{i}") for i in range(PREDICTIONS)]
            trigger = set_up(stack, jupiter, mints)
            jupiter.delay_next(1.0, times=PREDICTIONS)  # each buy's quote takes a second
            ids = [post_prediction(stack, trigger, mint)["id"] for mint in mints]
            killed = _kill_workers_mid_run(stack, kills=2)
            started = time.monotonic()
            final = wait_for(lambda: _all_final(stack, ids), 60, "every prediction to reach a final status", stack)
            elapsed = time.monotonic() - started
            _assert_each_bought_once(stack, final, mints)
        finally:
            stack.stop()
    assert killed >= 2 and elapsed < 60


def _kill_workers_mid_run(stack: Stack, kills: int) -> int:
    """kill -9 the worker `kills` times while jobs run; returns how many workers were killed."""
    killed = 0
    for _ in range(kills):
        time.sleep(1.5)
        pids = wait_for(lambda: worker_pids(stack), 30, "a (restarted) worker", stack)
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
            killed += 1
    return killed


def _all_final(stack: Stack, ids: list[str]) -> list[dict] | None:
    rows = [api(stack, "GET", f"/api/predictions/{prediction_id}") for prediction_id in ids]
    return rows if all(row["status"] != "PENDING" for row in rows) else None


def _assert_each_bought_once(stack: Stack, predictions: list[dict], mints: list[str]) -> None:
    assert {p["status"] for p in predictions} == {"EVALUATED"}
    assert [[e["result"] for e in p["executions"]] for p in predictions] == [["EXECUTED"]] * len(mints)
    with db(stack) as conn:
        bought = conn.execute("SELECT mint, count(*) AS n FROM trade_logs WHERE action = 'BUY' GROUP BY mint")
        assert {row["mint"]: row["n"] for row in bought.fetchall()} == dict.fromkeys(mints, 1)
        balance = conn.execute("SELECT virtual_sol_balance FROM wallets WHERE alias = 'recover'").fetchone()
        attempts = conn.execute("SELECT max(attempts) AS n FROM predictions").fetchone()["n"]
    assert attempts >= 2, "no evaluation was cut off by a kill: the recovery path did not run"
    assert balance["virtual_sol_balance"] == Decimal("10") - Decimal("0.1") * len(mints)
