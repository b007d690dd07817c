"""The emergency stop racing buys on the real stack: web, two RQ workers, scheduler, embedded PostgreSQL/Redis.

One client posts 20 predictions (each on its own mint, so each may buy) while another calls
POST /api/trading/halt as soon as the first buys are written. Once the halt has answered, no buy is written:
the trades and positions seen right after it are all there will ever be, and every evaluation that did not
buy is REJECTED with a `halt_check` step naming the halt's reason.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest

from tests.e2e.flows import api, db, wait_evaluated, wait_for
from tests.e2e.stack import Stack
from tests.factories import buy_body, metric_point, mint_for, model_body, train_booster, wallet_body

pytestmark = pytest.mark.e2e

PREDICTIONS = 20
HALT_AFTER_BUYS = 3  # the halt goes out once this many buys are written, while the rest are still being posted
POST_SPACING_SECONDS = 0.05
ALIAS = "halt-race"
REASON = "e2e race"

BUYS_SQL = """SELECT t.id, t.created_at FROM trade_logs t JOIN wallets w ON w.id = t.wallet_id
               WHERE w.alias = %s AND t.action = 'BUY'"""
POSITIONS_SQL = "SELECT p.id FROM positions p JOIN wallets w ON w.id = p.wallet_id WHERE w.alias = %s"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("halt-e2e")
    running = Stack({"DATA_DIR": str(tmp / "data"), "PRICE_SOURCE": "sim", "WORKER_PROCESSES": "2"},
                    tmp / "stack.log")
    try:
        running.wait_all_up()
        yield running
    finally:
        running.stop()


def setup_buying(stack) -> tuple[int, list[str]]:
    """A wallet, a trigger model, 20 known mints and an active BUY workflow that buys each; (model id, mints)."""
    api(stack, "POST", "/api/wallets", json=wallet_body(ALIAS, virtual_sol_balance="10"))
    trigger = api(stack, "POST", "/api/models", json=model_body(train_booster(seed=1), "halt-trigger"))["id"]
    mints = [mint_for(f"halt-race-{k}") for k in range(PREDICTIONS)]
    now = datetime.now(UTC)
    for mint in mints:
        api(stack, "POST", f"/api/coins/{mint}/metrics", json={"decimals": 6, "metrics": [metric_point(now)]})
    workflow = api(stack, "POST", "/api/buy/workflows", json=buy_body(
        trigger, wallet_alias=ALIAS, name="halt-race", cooldown_seconds=0, max_open_positions=100))
    api(stack, "PATCH", f"/api/buy/workflows/{workflow['id']}/toggle?active=true")
    return trigger, mints


def rows(stack, query: str) -> list[dict]:
    with db(stack) as conn:
        return conn.execute(query, (ALIAS,)).fetchall()


def test_no_buy_is_written_after_a_racing_halt_returns(stack):
    trigger, mints = setup_buying(stack)
    posted: list[str] = []

    def post_predictions():
        for mint in mints:
            body = {"mint": mint, "model_id": trigger, "probability": 0.9, "timestamp": datetime.now(UTC).isoformat()}
            posted.append(api(stack, "POST", "/api/predictions", json=body)["id"])
            time.sleep(POST_SPACING_SECONDS)

    poster = threading.Thread(target=post_predictions)
    poster.start()
    wait_for(lambda: len(rows(stack, BUYS_SQL)) >= HALT_AFTER_BUYS, 15, "the first buys", stack, poll=0.01)
    halt = api(stack, "POST", "/api/trading/halt", json={"reason": REASON})  # a second client, racing the workers
    with db(stack) as conn:
        returned_at = conn.execute("SELECT clock_timestamp() AS t").fetchone()["t"]
    buys_at_halt = {row["id"] for row in rows(stack, BUYS_SQL)}
    positions_at_halt = {row["id"] for row in rows(stack, POSITIONS_SQL)}
    posted_before_halt_returned = len(posted)
    poster.join()

    outcomes = [wait_evaluated(stack, prediction_id) for prediction_id in posted]  # the workers have drained
    assert halt["halted"] is True and halt["halted_at"] is not None
    buys = rows(stack, BUYS_SQL)
    assert {row["id"] for row in buys} == buys_at_halt and len(buys_at_halt) >= HALT_AFTER_BUYS
    assert {row["id"] for row in rows(stack, POSITIONS_SQL)} == positions_at_halt
    assert max(row["created_at"] for row in buys) < returned_at
    executions = [execution for outcome in outcomes for execution in outcome["executions"]]
    assert len(executions) == PREDICTIONS and posted_before_halt_returned < PREDICTIONS
    executed = [e for e in executions if e["result"] == "EXECUTED"]
    assert len(executed) == len(buys_at_halt)
    refused = [e for e in executions if e["result"] != "EXECUTED"]
    assert refused and all(e["result"] == "REJECTED" for e in refused)
    assert all(e["steps_log"][-1]["step"] == "halt_check" and e["steps_log"][-1]["reason"] == REASON
               for e in refused)
