"""BUY evaluation (SPEC §4) against real PostgreSQL: every branch, amounts to the lamport, exactly-once."""

from __future__ import annotations

import threading
from decimal import Decimal

import psycopg
import pytest
from psycopg.rows import dict_row

from app.services.buy_engine import evaluate_prediction
from app.store.postgres import PostgresStore
from tests.assertions import count, wallet_balance
from tests.factories import (
    OTHER_MINT,
    REAL_PUBLIC_KEY,
    Predictor,
    add_mint,
    buy_deps,
    buy_workflow,
    store_prediction,
)


@pytest.fixture
def setup(conn, wallet, make_model):
    add_mint(conn)
    add_mint(conn, OTHER_MINT, 9)
    return make_model("trigger"), make_model("cond-a"), make_model("cond-b")


def executions(conn) -> list[dict]:
    return conn.execute("SELECT * FROM workflow_executions ORDER BY created_at").fetchall()


def test_executed_buy_is_exact_to_the_lamport(conn, setup):
    trigger, cond_a, _ = setup
    workflow = buy_workflow(conn, trigger, ((cond_a, "gte", 0.6),))
    opened: list = []
    prediction_id = store_prediction(conn, trigger, 0.9)
    outcomes = evaluate_prediction(PostgresStore(conn),
                                   prediction_id, buy_deps(Predictor({cond_a: 0.65}), opened=opened))
    assert [o["result"] for o in outcomes] == ["EXECUTED"]
    # 0.05 SOL = 50_000_000 lamports; fee 30 bps rounded up = 150_000; 49_850_000 swapped at 0.0001 SOL/token
    position = conn.execute("SELECT * FROM positions").fetchone()
    assert position["tokens_raw"] == position["initial_tokens_raw"] == 49_850_000 * 10**6 // 100_000
    assert position["sol_spent"] == Decimal("0.05") and position["token_decimals"] == 6
    assert position["entry_price_sol"] == position["peak_price_sol"] == Decimal("0.0001")
    assert wallet_balance(conn) == Decimal("9.95")
    trade = conn.execute("SELECT * FROM trade_logs").fetchone()
    assert (trade["action"], trade["sol_amount"], trade["fee_sol"], trade["token_amount_raw"]) == (
        "BUY", Decimal("0.05"), Decimal("0.00015"), position["tokens_raw"])
    [execution] = executions(conn)
    assert execution["result"] == "EXECUTED" and execution["trade_log_id"] == trade["id"]
    assert execution["position_id"] == position["id"] and execution["workflow_id"] == workflow["id"]
    assert [s["step"] for s in execution["steps_log"]] == [
        "trigger", "max_positions_check", "condition_1", "amount_check", "quote", "execute_buy"]
    assert execution["steps_log"][2]["probability"] == 0.65
    assert execution["trigger_data"]["probability"] == 0.9
    assert opened == [position["id"]]
    status = conn.execute("SELECT status, outcomes FROM predictions").fetchone()
    assert status["status"] == "EVALUATED" and status["outcomes"][0]["result"] == "EXECUTED"


def test_below_threshold_logs_nothing(conn, setup):
    trigger = setup[0]
    buy_workflow(conn, trigger)
    outcomes = evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.69), buy_deps())
    assert outcomes[0]["result"] == "ignored" and executions(conn) == []


def test_other_models_workflows_are_not_evaluated(conn, setup):
    trigger, cond_a, _ = setup
    buy_workflow(conn, trigger)
    assert evaluate_prediction(PostgresStore(conn), store_prediction(conn, cond_a, 0.99), buy_deps()) == []


def test_cooldown_from_the_database_skips(conn, setup):
    trigger = setup[0]
    buy_workflow(conn, trigger, cooldown_seconds=3600)
    assert evaluate_prediction(PostgresStore(conn),
                               store_prediction(conn, trigger, 0.9), buy_deps())[0]["result"] == "EXECUTED"
    second = evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9, mint=OTHER_MINT), buy_deps())
    assert second[0]["result"] == "skipped" and "cooldown" in second[0]["reason"]
    assert len(executions(conn)) == 1


def test_holding_the_mint_skips(conn, setup):
    trigger = setup[0]
    buy_workflow(conn, trigger, cooldown_seconds=0)
    evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9), buy_deps())
    again = evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.95), buy_deps())
    assert again[0]["result"] == "skipped" and "already holds" in again[0]["reason"]
    assert count(conn, "positions") == 1


def test_max_open_positions_rejects_with_step(conn, setup):
    trigger = setup[0]
    buy_workflow(conn, trigger, cooldown_seconds=0, max_open_positions=1)
    evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9), buy_deps())
    outcome = evaluate_prediction(PostgresStore(conn),
                                  store_prediction(conn, trigger, 0.9, mint=OTHER_MINT), buy_deps())
    assert outcome[0]["result"] == "REJECTED"
    rejected = executions(conn)[-1]
    assert rejected["steps_log"][-1] == {"step": "max_positions_check", "open": 1, "max": 1, "result": "rejected"}


def test_first_failing_condition_rejects_and_later_ones_are_not_asked(conn, setup):
    trigger, cond_a, cond_b = setup
    buy_workflow(conn, trigger, ((cond_a, "gte", 0.6), (cond_b, "gte", 0.5)))
    predictor = Predictor({cond_a: 0.59, cond_b: 0.99})
    outcome = evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9), buy_deps(predictor))
    assert outcome[0]["result"] == "REJECTED" and predictor.calls == [cond_a]
    step = executions(conn)[0]["steps_log"][-1]
    assert (step["step"], step["result"], step["probability"], step["threshold"]) == ("condition_1", "failed",
                                                                                    0.59, 0.6)
    assert wallet_balance(conn) == Decimal("10")


def test_condition_error_is_logged_as_error_with_message(conn, setup):
    trigger, cond_a, _ = setup
    buy_workflow(conn, trigger, ((cond_a, "gte", 0.6),))
    predictor = Predictor({cond_a: ValueError("latest price_sol is 900s old")})
    outcome = evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9), buy_deps(predictor))
    assert outcome[0]["result"] == "ERROR"
    execution = executions(conn)[0]
    assert "900s old" in execution["error_message"] and execution["steps_log"][-1]["result"] == "error"


def test_model_probability_is_computed_once_per_prediction(conn, setup):
    trigger, cond_a, _ = setup
    buy_workflow(conn, trigger, ((cond_a, "gte", 0.6),), name="one")
    buy_workflow(conn, trigger, ((cond_a, "gte", 0.9),), name="two")
    predictor = Predictor({cond_a: 0.7})
    evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9), buy_deps(predictor))
    assert predictor.calls == [cond_a]


def test_percent_amount_floors_to_the_lamport(conn, setup):
    trigger = setup[0]
    buy_workflow(conn, trigger, buy_amount_mode="percent", buy_amount_value=Decimal("33.333333333"))
    evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9), buy_deps(fee_bps=0))
    spent = conn.execute("SELECT sol_spent FROM positions").fetchone()["sol_spent"]
    assert spent == Decimal("3.333333333") and wallet_balance(conn) == Decimal("6.666666667")


def test_insufficient_balance_rejects(conn, setup):
    trigger = setup[0]
    buy_workflow(conn, trigger, buy_amount_value=Decimal("10.000000001"))
    outcome = evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9), buy_deps())
    assert outcome[0]["result"] == "REJECTED" and "insufficient balance" in outcome[0]["reason"]
    assert wallet_balance(conn) == Decimal("10")


@pytest.mark.parametrize("case, expected", [("unknown-decimals", "decimals"), ("no-price", "no price")])
def test_missing_data_is_an_error_never_a_crash(conn, setup, case, expected):
    trigger = setup[0]
    buy_workflow(conn, trigger)
    if case == "unknown-decimals":
        conn.execute("DELETE FROM mints")
    outcome = evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9),
                                  buy_deps(price=None if case == "no-price" else Decimal("0.0001")))
    assert outcome[0]["result"] == "ERROR" and expected in executions(conn)[0]["error_message"]
    assert wallet_balance(conn) == Decimal("10") and count(conn, "positions") == 0


def test_disabled_wallet_and_inactive_workflow_are_not_evaluated(conn, setup):
    trigger = setup[0]
    workflow = buy_workflow(conn, trigger)
    conn.execute("UPDATE wallets SET trading_enabled = FALSE")
    assert evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9), buy_deps()) == []
    conn.execute("UPDATE wallets SET trading_enabled = TRUE")
    conn.execute("UPDATE trading_workflows SET is_active = FALSE WHERE id = %s", (workflow["id"],))
    assert evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9), buy_deps()) == []


def test_real_wallet_is_an_error_not_a_paper_trade(conn, config, setup):
    trigger = setup[0]
    conn.execute("UPDATE wallets SET type = 'REAL', public_key = %s", (REAL_PUBLIC_KEY,))
    buy_workflow(conn, trigger)
    outcome = evaluate_prediction(PostgresStore(conn), store_prediction(conn, trigger, 0.9), buy_deps())
    assert outcome[0]["result"] == "ERROR" and "REAL" in outcome[0]["reason"]


def test_re_evaluating_a_prediction_never_buys_twice(conn, setup):
    trigger = setup[0]
    buy_workflow(conn, trigger, cooldown_seconds=0)
    prediction_id = store_prediction(conn, trigger, 0.9)
    evaluate_prediction(PostgresStore(conn), prediction_id, buy_deps())
    assert evaluate_prediction(PostgresStore(conn),
                               prediction_id, buy_deps())[0]["result"] == "EXECUTED"  # stored outcome
    conn.execute("UPDATE predictions SET status = 'PENDING'")
    conn.execute("UPDATE positions SET status = 'CLOSED', closed_at = now()")  # even with the mint free again
    again = evaluate_prediction(PostgresStore(conn), prediction_id, buy_deps())
    assert again[0]["result"] == "skipped"
    assert len(executions(conn)) == 1 and wallet_balance(conn) == Decimal("9.95")


def test_two_workers_evaluating_at_once_open_one_position(conn, setup, database_url):
    trigger = setup[0]
    buy_workflow(conn, trigger, cooldown_seconds=0)
    prediction_ids = [store_prediction(conn, trigger, 0.9) for _ in range(8)]
    barrier = threading.Barrier(len(prediction_ids))
    results: list[str] = []

    def work(prediction_id):
        with psycopg.connect(database_url, autocommit=True, row_factory=dict_row) as own:
            barrier.wait()
            results.extend(o["result"] for o in evaluate_prediction(PostgresStore(own), prediction_id, buy_deps()))

    threads = [threading.Thread(target=work, args=(pid,)) for pid in prediction_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == ["EXECUTED"] + ["skipped"] * 7
    assert count(conn, "positions") == 1
    assert wallet_balance(conn) == Decimal("9.95")
