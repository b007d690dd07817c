"""REAL trading end to end: real web, two workers and the scheduler trade a REAL wallet on the local LiteSVM chain.

The BUY workflow buys through Jupiter's /swap (the stand-in builds real transactions), the SELL workflow's
stop-loss sells there, and the wallet's SOL and tokens on chain equal what the API reports.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from cryptography.fernet import Fernet

from app.core.solana import lamports_to_sol
from tests.e2e.flows import api, post_prediction, wait_evaluated, wait_for
from tests.e2e.stack import Stack
from tests.factories import buy_body, model_body, sell_body, train_booster
from tests.fakes.chain_world import PRICE, WALLET_LAMPORTS, chain_world

pytestmark = pytest.mark.e2e

ALIAS = "onchain"


@pytest.fixture(scope="module")
def world():
    with chain_world() as built:
        yield built


@pytest.fixture(scope="module")
def stack(tmp_path_factory, world):
    tmp = tmp_path_factory.mktemp("real-e2e")
    env = {"DATA_DIR": str(tmp / "data"), "PRICE_SOURCE": "jupiter", "JUPITER_BASE_URL": world.jupiter.base_url,
           "SOLANA_RPC_URL": world.rpc.url, "WALLET_ENCRYPTION_KEY": Fernet.generate_key().decode(),
           "WORKER_PROCESSES": "2", "SELL_CHECK_INTERVAL_SECONDS": "1", "JUPITER_RATE_LIMIT_PER_MIN": "100000"}
    running = Stack(env, tmp / "stack.log")
    try:
        running.wait_ready()
        yield running
    finally:
        running.stop()


def activate(stack, body: dict) -> dict:
    workflow = api(stack, "POST", "/api/buy/workflows", json=body)
    return api(stack, "PATCH", f"/api/buy/workflows/{workflow['id']}/toggle?active=true")


def assert_api_equals_chain(stack, world) -> dict:
    wallet = api(stack, "GET", f"/api/wallets/{ALIAS}")
    assert Decimal(wallet["sol_balance"]) == lamports_to_sol(world.lamports()), wallet
    held = sum(int(p["tokens_raw"]) for p in api(stack, "GET", f"/api/positions?wallet_alias={ALIAS}&status=OPEN"))
    assert held == world.tokens()
    return wallet


def test_a_real_wallet_buys_and_its_stop_loss_sells_on_chain(stack, world):
    api(stack, "POST", "/api/wallets", json={"alias": ALIAS, "type": "REAL", "secret_key": world.key.secret_b58})
    trigger = api(stack, "POST", "/api/models", json=model_body(train_booster(seed=1), "trigger-real"))["id"]
    activate(stack, buy_body(trigger, wallet_alias=ALIAS, name="real-buy", buy_amount_value=0.1, cooldown_seconds=0))
    activate(stack, sell_body(wallet_alias=ALIAS, name="real-sell",
                              chain={"rules": [{"type": "stop_loss", "percent": -5.0, "from": "entry"}]}))

    evaluated = wait_evaluated(stack, post_prediction(stack, trigger, world.mint)["id"], timeout=60)

    [execution] = evaluated["executions"]
    assert execution["result"] == "EXECUTED", execution
    position = api(stack, "GET", f"/api/positions/{execution['position_id']}")
    [buy_order] = position["orders"]
    assert buy_order["state"] == "FILLED" and buy_order["signature"] and not buy_order["is_paper"]
    assert int(position["tokens_raw"]) == world.tokens() > 0
    assert_api_equals_chain(stack, world)

    world.jupiter.move_price(world.mint, PRICE * Decimal("0.9"))
    closed = wait_for(lambda: (p := api(stack, "GET", f"/api/positions/{position['id']}"))["status"] == "CLOSED"
                      and p, 60, "the stop-loss to sell on chain", stack)

    assert closed["close_reason"] == "stop_loss" and world.tokens() == 0
    orders = api(stack, "GET", f"/api/orders?wallet_alias={ALIAS}")
    assert sorted((o["side"], o["state"]) for o in orders) == [("BUY", "FILLED"), ("SELL", "FILLED")]
    assert world.lamports() == WALLET_LAMPORTS + sum(o["sol_change_lamports"] for o in orders)
    assert Decimal(closed["realized_pnl_sol"]) == Decimal(closed["sol_received"]) - Decimal(closed["sol_spent"])
    assert_api_equals_chain(stack, world)
