"""BUY end to end: real web, two workers and scheduler, embedded PostgreSQL/Redis, a local Jupiter server."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.e2e.flows import api, buy_setup, db, open_position, wait_evaluated
from tests.e2e.stack import Stack
from tests.factories import MINT, prediction_body
from tests.fakes.jupiter_server import FakeJupiter, tokens_out

pytestmark = pytest.mark.e2e

PRICE = Decimal("0.000123")


@pytest.fixture(scope="module")
def jupiter():
    with FakeJupiter() as fake:
        fake.set_price(MINT, PRICE, 6)
        yield fake


@pytest.fixture(scope="module")
def stack(tmp_path_factory, jupiter):
    tmp = tmp_path_factory.mktemp("buy-e2e")
    running = Stack({"DATA_DIR": str(tmp / "data"), "PRICE_SOURCE": "jupiter", "JUPITER_BASE_URL": jupiter.base_url,
                     "PAPER_FEE_BPS": "30", "WORKER_PROCESSES": "2"}, tmp / "stack.log")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def test_posted_prediction_opens_the_expected_position(stack, jupiter):
    position = open_position(stack, "e2e-one", MINT, PRICE)
    fee = -(-50_000_000 * 30 // 10_000)
    assert fee == 150_000
    assert int(position["tokens_raw"]) == tokens_out(50_000_000 - fee, PRICE, 6)
    assert position["sol_spent"] == "0.050000000"
    assert api(stack, "GET", "/api/wallets/e2e-one")["virtual_sol_balance"] == "1.950000000"
    quote_requests = [r for r in jupiter.requests if r[1].get("outputMint") == MINT]
    assert quote_requests and quote_requests[-1][1]["amount"] == str(50_000_000 - fee)


def test_fifty_identical_predictions_two_workers_one_position(stack):
    trigger = buy_setup(stack, "e2e-race", MINT, PRICE)
    body = prediction_body(trigger, probability=0.95, timestamp=datetime.now(UTC).isoformat())
    barrier = threading.Barrier(50)
    accepted: list[str] = []

    def post():
        barrier.wait()
        accepted.append(api(stack, "POST", "/api/predictions", json=body)["id"])

    threads = [threading.Thread(target=post) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    outcomes = [o["result"] for pid in accepted for o in wait_evaluated(stack, pid)["outcomes"]]
    assert outcomes.count("EXECUTED") == 1 and set(outcomes) <= {"EXECUTED", "skipped", "REJECTED"}
    with db(stack) as conn:
        positions = conn.execute("SELECT count(*) AS n FROM positions p JOIN wallets w ON w.id = p.wallet_id "
                                 "WHERE w.alias = 'e2e-race'").fetchone()["n"]
        executed = conn.execute("SELECT count(*) AS n FROM workflow_executions we JOIN trading_workflows tw "
                                "ON tw.id = we.workflow_id JOIN wallets w ON w.id = tw.wallet_id "
                                "WHERE w.alias = 'e2e-race' AND we.result = 'EXECUTED'").fetchone()["n"]
    assert (positions, executed) == (1, 1)
    assert api(stack, "GET", "/api/wallets/e2e-race")["virtual_sol_balance"] == "1.950000000"
