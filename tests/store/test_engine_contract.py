"""The engines' contract on both stores: BUY evaluation (SPEC §4), SELL checks (SPEC §5), manual sells and halts
give the same outcomes, rows and amounts (to the lamport) on PostgreSQL and in memory, and the store invariants
the engines rely on (unique slots, all-or-nothing transactions, read-only snapshots) hold on both.

Every test runs twice through the `store` fixture (tests/store/conftest.py): arranged with the stores' seeding
methods, asserted on their rows. What only a real database can show (connections racing in threads, row locks,
SKIP LOCKED, a worker killed with kill -9) stays in tests/service/.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from app.errors import Conflict
from app.pricing.sources import PriceSource, PriceUnavailable, Quote
from app.services.buy_engine import BuyDeps, evaluate_prediction
from app.services.sell_engine import SellDeps, check_position, sell_manually
from app.store.port import Row, SlotTaken
from tests.factories import (
    ENTRY_PRICE,
    LOSING,
    MINT,
    OTHER_MINT,
    REAL_PUBLIC_KEY,
    WALLET_ALIAS,
    WALLET_BALANCE,
    MovingPrice,
    Predictor,
    buy_body,
    buy_deps,
    mint_for,
    sell_body,
    sell_deps,
    workflow_columns,
)

TRIGGER, COND_A, COND_B = 1, 2, 3  # model ids (PgWorld gives each its ml_models row)
TOKENS = 49_850_000 * 10**6 // 100_000  # what 0.05 SOL buys at ENTRY_PRICE after the 30 bps fee (6 decimals)


# --- arranging and reading, the same on both stores -------------------------

def buying(clock, predictor: Predictor | None = None, **options: Any) -> BuyDeps:
    """buy_deps on the test's clock (the memory store's; the database's now() on PostgreSQL)."""
    return buy_deps(predictor, clock=clock.engine, **options)


def selling(clock, market: MovingPrice, closed: list | None = None, **options: Any) -> SellDeps:
    """sell_deps on the test's clock (the memory store's; the wall clock on PostgreSQL unless set)."""
    return sell_deps(market, closed, clock=clock.engine, **options)


def predict(store, model_id: int, probability: float, mint: str = MINT) -> UUID:
    """A PENDING prediction of `model_id` made and received now."""
    return store.add_prediction(mint, model_id, probability, store.now())


def add_buy(store, wallet_id: UUID, conditions=(), **overrides: Any) -> UUID:
    """An active BUY workflow (buy_body's, triggered by TRIGGER) of the wallet."""
    return store.add_workflow(wallet_id, workflow_columns(buy_body(TRIGGER, conditions, **overrides)))


def add_sell(store, wallet_id: UUID, rules: list[dict[str, Any]]) -> UUID:
    """An active SELL workflow with these rules of the wallet."""
    return store.add_workflow(wallet_id, workflow_columns(sell_body(chain={"rules": rules})))


def balance(store, wallet_id: UUID) -> Decimal:
    return store.wallet(wallet_id)["virtual_sol_balance"]


def executions(store, result: str | None = None) -> list[Row]:
    return [row for row in store.rows("workflow_executions") if result in (None, row["result"])]


def sells(store) -> list[Row]:
    return [row for row in store.rows("trade_logs") if row["action"] == "SELL"]


def position_row(store, position_id: UUID | str) -> Row:
    return next(row for row in store.rows("positions") if str(row["id"]) == str(position_id))


def steps_of(store, execution_id: str) -> list[dict[str, Any]]:
    return next(row["steps_log"] for row in executions(store) if str(row["id"]) == execution_id)


def buy_on(store, clock, name: str, deps: BuyDeps | None = None) -> dict[str, Any]:
    """Evaluate a 0.9 prediction of TRIGGER on a fresh mint named `name`; returns the one outcome."""
    mint = mint_for(name)
    store.add_mint(mint, 6)
    [outcome] = evaluate_prediction(store, predict(store, TRIGGER, 0.9, mint), deps or buying(clock))
    return outcome


class WorkerDied(BaseException):
    """A worker killed mid-evaluation: no engine code catches it."""


def worker_dies(_position_id: UUID) -> None:
    raise WorkerDied


class Meanwhile:
    """A price source letting another writer act before each of its first `times` quotes (between an engine's
    quote and its apply); records the amounts quoted."""

    name = "test"

    def __init__(self, source: PriceSource, act: Callable[[], Any], times: int = 1) -> None:
        self.source, self.act, self.times = source, act, times
        self.amounts: list[int] = []

    def quote_buy(self, mint: str, decimals: int, lamports: int) -> Quote:
        self._before(lamports)
        return self.source.quote_buy(mint, decimals, lamports)

    def quote_sell(self, mint: str, decimals: int, tokens_raw: int) -> Quote:
        self._before(tokens_raw)
        return self.source.quote_sell(mint, decimals, tokens_raw)

    def _before(self, amount: int) -> None:
        self.amounts.append(amount)
        if len(self.amounts) <= self.times:
            self.act()


@pytest.fixture
def wallet_id(store) -> UUID:
    """The default TEST wallet (WALLET_ALIAS, WALLET_BALANCE SOL)."""
    return store.add_wallet(WALLET_ALIAS, virtual_sol_balance=WALLET_BALANCE)


@pytest.fixture
def mints(store) -> None:
    store.add_mint(MINT, 6)
    store.add_mint(OTHER_MINT, 9)


@pytest.fixture
def market() -> MovingPrice:
    return MovingPrice(ENTRY_PRICE)


@pytest.fixture
def position(store, clock, wallet_id) -> Row:
    """A 0.05 SOL paper position of MINT the BUY engine bought at ENTRY_PRICE (as factories.bought_position)."""
    store.add_mint(MINT, 6)
    add_buy(store, wallet_id)
    [outcome] = evaluate_prediction(store, predict(store, TRIGGER, 0.9), buying(clock))
    return position_row(store, outcome["position_id"])


# --- BUY evaluation ---------------------------------------------------------

def test_executed_buy_is_exact_to_the_lamport(store, clock, mints, wallet_id):
    workflow = add_buy(store, wallet_id, ((COND_A, "gte", 0.6),))
    opened: list = []
    outcomes = evaluate_prediction(store, predict(store, TRIGGER, 0.9),
                                   buying(clock, Predictor({COND_A: 0.65}), opened=opened))
    assert [o["result"] for o in outcomes] == ["EXECUTED"]
    # 0.05 SOL = 50_000_000 lamports; fee 30 bps rounded up = 150_000; 49_850_000 swapped at 0.0001 SOL/token
    [position] = store.rows("positions")
    assert position["tokens_raw"] == position["initial_tokens_raw"] == TOKENS
    assert position["sol_spent"] == Decimal("0.05") and position["token_decimals"] == 6
    assert position["entry_price_sol"] == position["peak_price_sol"] == Decimal("0.0001")
    assert balance(store, wallet_id) == Decimal("9.95")
    [trade] = store.rows("trade_logs")
    assert (trade["action"], trade["sol_amount"], trade["fee_sol"], trade["token_amount_raw"]) == (
        "BUY", Decimal("0.05"), Decimal("0.00015"), position["tokens_raw"])
    [execution] = executions(store)
    assert execution["result"] == "EXECUTED" and execution["trade_log_id"] == trade["id"]
    assert execution["position_id"] == position["id"] and execution["workflow_id"] == workflow
    assert [s["step"] for s in execution["steps_log"]] == [
        "trigger", "max_positions_check", "condition_1", "amount_check", "quote", "execute_buy"]
    assert execution["steps_log"][2]["probability"] == 0.65
    assert execution["trigger_data"]["probability"] == 0.9
    assert opened == [position["id"]]
    [prediction] = store.rows("predictions")
    assert prediction["status"] == "EVALUATED" and prediction["outcomes"][0]["result"] == "EXECUTED"


def test_below_threshold_logs_nothing(store, clock, mints, wallet_id):
    add_buy(store, wallet_id)
    outcomes = evaluate_prediction(store, predict(store, TRIGGER, 0.69), buying(clock))
    assert outcomes[0]["result"] == "ignored" and executions(store) == []


def test_other_models_workflows_are_not_evaluated(store, clock, mints, wallet_id):
    add_buy(store, wallet_id)
    assert evaluate_prediction(store, predict(store, COND_A, 0.99), buying(clock)) == []


def test_cooldown_from_the_store_skips(store, clock, mints, wallet_id):
    add_buy(store, wallet_id, cooldown_seconds=3600)
    assert evaluate_prediction(store, predict(store, TRIGGER, 0.9), buying(clock))[0]["result"] == "EXECUTED"
    second = evaluate_prediction(store, predict(store, TRIGGER, 0.9, OTHER_MINT), buying(clock))
    assert second[0]["result"] == "skipped" and "cooldown" in second[0]["reason"]
    assert len(executions(store)) == 1


def test_holding_the_mint_skips(store, clock, mints, wallet_id):
    add_buy(store, wallet_id, cooldown_seconds=0)
    evaluate_prediction(store, predict(store, TRIGGER, 0.9), buying(clock))
    again = evaluate_prediction(store, predict(store, TRIGGER, 0.95), buying(clock))
    assert again[0]["result"] == "skipped" and "already holds" in again[0]["reason"]
    assert len(store.rows("positions")) == 1


def test_max_open_positions_rejects_with_step(store, clock, mints, wallet_id):
    add_buy(store, wallet_id, cooldown_seconds=0, max_open_positions=1)
    evaluate_prediction(store, predict(store, TRIGGER, 0.9), buying(clock))
    outcome = evaluate_prediction(store, predict(store, TRIGGER, 0.9, OTHER_MINT), buying(clock))
    assert outcome[0]["result"] == "REJECTED"
    rejected = executions(store)[-1]
    assert rejected["steps_log"][-1] == {"step": "max_positions_check", "open": 1, "max": 1, "result": "rejected"}


def test_first_failing_condition_rejects_and_later_ones_are_not_asked(store, clock, mints, wallet_id):
    add_buy(store, wallet_id, ((COND_A, "gte", 0.6), (COND_B, "gte", 0.5)))
    predictor = Predictor({COND_A: 0.59, COND_B: 0.99})
    outcome = evaluate_prediction(store, predict(store, TRIGGER, 0.9), buying(clock, predictor))
    assert outcome[0]["result"] == "REJECTED" and predictor.calls == [COND_A]
    step = executions(store)[0]["steps_log"][-1]
    assert (step["step"], step["result"], step["probability"], step["threshold"]) == ("condition_1", "failed",
                                                                                    0.59, 0.6)
    assert balance(store, wallet_id) == Decimal("10")


def test_condition_error_is_logged_as_error_with_message(store, clock, mints, wallet_id):
    add_buy(store, wallet_id, ((COND_A, "gte", 0.6),))
    predictor = Predictor({COND_A: ValueError("latest price_sol is 900s old")})
    outcome = evaluate_prediction(store, predict(store, TRIGGER, 0.9), buying(clock, predictor))
    assert outcome[0]["result"] == "ERROR"
    [execution] = executions(store)
    assert "900s old" in execution["error_message"] and execution["steps_log"][-1]["result"] == "error"


def test_model_probability_is_computed_once_per_prediction(store, clock, mints, wallet_id):
    add_buy(store, wallet_id, ((COND_A, "gte", 0.6),), name="one")
    add_buy(store, wallet_id, ((COND_A, "gte", 0.9),), name="two")
    predictor = Predictor({COND_A: 0.7})
    evaluate_prediction(store, predict(store, TRIGGER, 0.9), buying(clock, predictor))
    assert predictor.calls == [COND_A]


def test_percent_amount_floors_to_the_lamport(store, clock, mints, wallet_id):
    add_buy(store, wallet_id, buy_amount_mode="percent", buy_amount_value=Decimal("33.333333333"))
    evaluate_prediction(store, predict(store, TRIGGER, 0.9), buying(clock, fee_bps=0))
    [position] = store.rows("positions")
    assert position["sol_spent"] == Decimal("3.333333333") and balance(store, wallet_id) == Decimal("6.666666667")


def test_insufficient_balance_rejects(store, clock, mints, wallet_id):
    add_buy(store, wallet_id, buy_amount_value=Decimal("10.000000001"))
    outcome = evaluate_prediction(store, predict(store, TRIGGER, 0.9), buying(clock))
    assert outcome[0]["result"] == "REJECTED" and "insufficient balance" in outcome[0]["reason"]
    assert balance(store, wallet_id) == Decimal("10")


@pytest.mark.parametrize("case, expected", [("unknown-decimals", "decimals"), ("no-price", "no price")])
def test_missing_data_is_an_error_never_a_crash(store, clock, mints, wallet_id, case, expected):
    add_buy(store, wallet_id)
    mint = mint_for("never-recorded") if case == "unknown-decimals" else MINT
    outcome = evaluate_prediction(store, predict(store, TRIGGER, 0.9, mint),
                                  buying(clock, price=None if case == "no-price" else Decimal("0.0001")))
    assert outcome[0]["result"] == "ERROR" and expected in executions(store)[0]["error_message"]
    assert balance(store, wallet_id) == Decimal("10") and store.rows("positions") == []


def test_disabled_wallet_and_inactive_workflow_are_not_evaluated(store, clock, mints):
    disabled = store.add_wallet("off", virtual_sol_balance=WALLET_BALANCE, trading_enabled=False)
    enabled = store.add_wallet(WALLET_ALIAS, virtual_sol_balance=WALLET_BALANCE)
    add_buy(store, disabled)
    store.add_workflow(enabled, workflow_columns(buy_body(TRIGGER), active=False))
    assert evaluate_prediction(store, predict(store, TRIGGER, 0.9), buying(clock)) == []


def test_real_wallet_is_an_error_not_a_paper_trade(store, clock, mints):
    add_buy(store, store.add_wallet(WALLET_ALIAS, type="REAL", public_key=REAL_PUBLIC_KEY))
    outcome = evaluate_prediction(store, predict(store, TRIGGER, 0.9), buying(clock))
    assert outcome[0]["result"] == "ERROR" and "REAL" in outcome[0]["reason"]


def test_re_evaluating_a_prediction_never_buys_twice(store, clock, mints, wallet_id):
    add_buy(store, wallet_id, cooldown_seconds=0)
    other_wallet = store.add_wallet("w2", virtual_sol_balance=WALLET_BALANCE)
    add_buy(store, other_wallet, cooldown_seconds=0)
    done = predict(store, TRIGGER, 0.9, OTHER_MINT)
    evaluate_prediction(store, done, buying(clock))
    assert [o["result"] for o in evaluate_prediction(store, done, buying(clock))] == ["EXECUTED"] * 2  # stored
    prediction_id = predict(store, TRIGGER, 0.9)
    dying = buying(clock)
    dying.on_position_opened = worker_dies
    with pytest.raises(WorkerDied):  # the first workflow's buy committed, its outcomes were never stored
        evaluate_prediction(store, prediction_id, dying)
    assert evaluate_prediction(store, prediction_id, buying(clock)) == []  # still claimed: nothing stored yet
    [position] = [row for row in store.rows("positions") if row["mint"] == MINT]
    store.apply_sell(position["id"], {"tokens_left": 0, "net_sol": 0, "realized": 0, "rule_key": None,
                                      "reason": "manual"})  # even with the mint free again
    clock.advance(seconds=1)
    rerun = buying(clock)
    rerun.lease_seconds = 0  # the dead worker's lease has run out
    again = evaluate_prediction(store, prediction_id, rerun)
    assert [o["result"] for o in again] == ["skipped", "EXECUTED"]  # the first never twice, the second once
    assert len(executions(store)) == 4 and balance(store, wallet_id) == Decimal("9.90")
    assert evaluate_prediction(store, prediction_id, buying(clock)) == again  # stored with the last buy


def test_the_last_workflows_buy_and_the_predictions_outcomes_commit_together(store, clock, mints, wallet_id):
    add_buy(store, wallet_id, cooldown_seconds=0)
    prediction_id = predict(store, TRIGGER, 0.9)
    dying = buying(clock)
    dying.on_position_opened = worker_dies
    with pytest.raises(WorkerDied):  # dies right after the commit: the outcome went with the buy
        evaluate_prediction(store, prediction_id, dying)
    stored = store.get_prediction(prediction_id)
    assert stored["status"] == "EVALUATED" and [o["result"] for o in stored["outcomes"]] == ["EXECUTED"]
    assert evaluate_prediction(store, prediction_id, buying(clock)) == stored["outcomes"]
    assert len(executions(store)) == 1


def test_a_balance_changed_between_quote_and_buy_is_quoted_again(store, clock, mints, wallet_id):
    add_buy(store, wallet_id, buy_amount_mode="percent", buy_amount_value=Decimal(10))
    deps = buying(clock, fee_bps=0)
    deps.price_source = source = Meanwhile(deps.price_source, lambda: store.debit(wallet_id, Decimal(1)))
    [outcome] = evaluate_prediction(store, predict(store, TRIGGER, 0.9), deps)
    assert outcome["result"] == "EXECUTED"
    assert source.amounts == [1_000_000_000, 900_000_000]  # 10 % of 10 SOL, then of the 9 SOL left
    [position] = store.rows("positions")
    assert position["sol_spent"] == Decimal("0.9") and position["tokens_raw"] == 900_000_000 * 10**6 // 100_000
    assert balance(store, wallet_id) == Decimal("8.1") and len(store.rows("orders")) == 1
    quote = next(step for step in executions(store)[0]["steps_log"] if step["step"] == "quote")
    assert quote["in_lamports"] == 900_000_000


def test_an_amount_that_keeps_changing_is_an_error_after_the_last_quote(store, clock, mints, wallet_id):
    add_buy(store, wallet_id, buy_amount_mode="percent", buy_amount_value=Decimal(10))
    deps = buying(clock, fee_bps=0)
    deps.price_source = source = Meanwhile(deps.price_source, lambda: store.debit(wallet_id, Decimal("0.1")),
                                           times=99)
    [outcome] = evaluate_prediction(store, predict(store, TRIGGER, 0.9), deps)
    assert outcome["result"] == "ERROR" and "kept changing over 4 quotes" in outcome["reason"]
    assert len(source.amounts) == 5  # quoted ahead, then again after each of the 4 applies
    assert store.rows("positions") == store.rows("orders") == store.rows("trade_logs") == []
    assert balance(store, wallet_id) == Decimal("9.5")
    [execution] = executions(store)
    assert execution["result"] == "ERROR" and "kept changing" in execution["error_message"]


# --- SELL checks ------------------------------------------------------------

def test_hold_records_price_and_raises_the_peak(store, clock, wallet_id, position, market):
    add_sell(store, wallet_id, [{"type": "take_profit", "percent": 50}])
    market.price = ENTRY_PRICE * Decimal("1.1")
    assert check_position(store, position["id"], selling(clock, market))["result"] == "hold"
    after = position_row(store, position["id"])
    assert after["peak_price_sol"] == after["last_price_sol"] == Decimal("0.00011")
    assert after["last_checked_at"] is not None and after["last_check_error"] is None
    market.price = ENTRY_PRICE
    check_position(store, position["id"], selling(clock, market))
    assert position_row(store, position["id"])["peak_price_sol"] == Decimal("0.00011")


@pytest.mark.parametrize("rule, path, reason", [
    ({"type": "take_profit", "percent": 20}, [Decimal("1.2")], "take_profit"),
    ({"type": "stop_loss", "percent": -5}, [Decimal("0.95")], "stop_loss"),
    ({"type": "trailing_stop", "percent": -3}, [Decimal("1.5"), Decimal("1.455")], "trailing_stop"),
])
def test_each_price_rule_closes_the_position_exactly(store, clock, wallet_id, position, market, rule, path, reason):
    workflow = add_sell(store, wallet_id, [rule])
    closed: list = []
    for factor in path:
        market.price = ENTRY_PRICE * factor
        outcome = check_position(store, position["id"], selling(clock, market, closed))
    assert outcome["result"] == "sold" and outcome["closed"] is True
    after = position_row(store, position["id"])
    gross = int(position["tokens_raw"]) * market.price * 10**9 // 10**6
    fee = -(-int(gross) * 30 // 10_000)
    net = (Decimal(int(gross)) - fee) / 10**9
    assert (after["status"], after["close_reason"], after["tokens_raw"]) == ("CLOSED", reason, 0)
    assert after["sol_received"] == net and after["realized_pnl_sol"] == net - Decimal("0.05")
    assert balance(store, wallet_id) == Decimal("9.95") + net
    assert closed == [position["id"]]
    [execution] = [row for row in executions(store) if row["workflow_id"] == workflow]
    assert execution["result"] == "EXECUTED" and execution["trigger_data"]["rule"] == reason
    assert {"change_from_entry_pct", "change_from_peak_pct", "minutes_since_open"} <= set(execution["trigger_data"])
    assert check_position(store, position["id"], selling(clock, market, closed))["result"] == "not_open"


def test_timeout_closes_after_the_minutes(store, clock, wallet_id, position, market):
    add_sell(store, wallet_id, [{"type": "timeout", "minutes": 30}])
    clock.set(position["opened_at"] + timedelta(minutes=29.9))
    assert check_position(store, position["id"], selling(clock, market))["result"] == "hold"
    clock.set(position["opened_at"] + timedelta(minutes=30))
    outcome = check_position(store, position["id"], selling(clock, market))
    assert outcome["closed"] is True and position_row(store, position["id"])["close_reason"] == "timeout"


def test_ladder_partial_then_full_and_pnl_adds_up(store, clock, wallet_id, position, market):
    add_sell(store, wallet_id, [{"type": "take_profit", "percent": 20, "sell_pct": 50},
                                {"type": "take_profit", "percent": 50}])
    market.price = ENTRY_PRICE * Decimal("1.25")
    first = check_position(store, position["id"], selling(clock, market))
    assert first["result"] == "sold" and first["closed"] is False
    assert int(first["tokens_sold"]) == int(position["tokens_raw"]) // 2
    assert check_position(store, position["id"], selling(clock, market))["result"] == "hold"  # +20 % fired once
    market.price = ENTRY_PRICE * Decimal("1.5")
    assert check_position(store, position["id"], selling(clock, market))["closed"] is True
    trades = sells(store)
    after = position_row(store, position["id"])
    assert len(trades) == 2 and after["fired_rules"] == ["take_profit:20:50", "take_profit:50:-"]
    assert sum(t["realized_pnl_sol"] for t in trades) == after["realized_pnl_sol"]
    assert balance(store, wallet_id) - Decimal("10") == after["realized_pnl_sol"]


def test_no_price_records_the_error_and_does_not_sell(store, clock, wallet_id, position, market):
    add_sell(store, wallet_id, [{"type": "stop_loss", "percent": -5}])

    def no_price(mint, decimals, tokens):
        raise PriceUnavailable("jupiter: COULD_NOT_FIND_ANY_ROUTE")

    assert check_position(store, position["id"], selling(clock, market, mint_price=no_price))["result"] == "no_price"
    after = position_row(store, position["id"])
    assert "COULD_NOT_FIND_ANY_ROUTE" in after["last_check_error"] and after["status"] == "OPEN"
    assert after["last_checked_at"] is not None


def test_failed_sell_logs_error_once_not_every_interval(store, clock, wallet_id, position, market):
    add_sell(store, wallet_id, [{"type": "stop_loss", "percent": -5}])
    market.price = LOSING
    market.fail_fills = True
    for _ in range(3):
        deps = selling(clock, market, mint_price=lambda mint, d, t: LOSING)
        assert check_position(store, position["id"], deps)["result"] == "sell_failed"
    errors_logged = executions(store, "ERROR")
    assert len(errors_logged) == 1 and "route vanished" in errors_logged[0]["error_message"]
    market.fail_fills = False
    assert check_position(store, position["id"], selling(clock, market))["closed"] is True


def test_without_active_sell_workflow_nothing_is_sold(store, clock, position, market):
    market.price = ENTRY_PRICE / 2
    assert check_position(store, position["id"], selling(clock, market))["result"] == "no_sell_workflow"
    assert position_row(store, position["id"])["status"] == "OPEN"


def test_without_shared_price_the_held_amount_is_quoted(store, clock, wallet_id, position, market):
    add_sell(store, wallet_id, [{"type": "take_profit", "percent": 20}])
    market.price = ENTRY_PRICE * 2
    assert check_position(store, position["id"], selling(clock, market, shared_price=False))["closed"] is True


def test_orders_are_linked_to_what_they_produced(store, clock, wallet_id, position, market):
    [bought] = executions(store)
    [buy] = store.rows("orders")
    assert (buy["side"], buy["state"], buy["is_paper"], buy["in_amount"], buy["out_amount"]) == (
        "BUY", "FILLED", True, 49_850_000, TOKENS)
    assert (buy["execution_id"], buy["trade_log_id"], buy["position_id"]) == (
        bought["id"], bought["trade_log_id"], position["id"])
    workflow = add_sell(store, wallet_id, [{"type": "take_profit", "percent": 20}])
    market.price = ENTRY_PRICE * Decimal("1.2")
    outcome = check_position(store, position["id"], selling(clock, market))
    [sell] = [row for row in store.rows("orders") if row["side"] == "SELL"]
    [trade] = sells(store)
    [execution] = [row for row in executions(store) if row["workflow_id"] == workflow]
    assert (sell["state"], sell["position_id"], sell["in_amount"], outcome["order_id"]) == (
        "FILLED", position["id"], TOKENS, str(sell["id"]))
    assert sell["trade_log_id"] == trade["id"] and trade["order_id"] == sell["id"]
    assert sell["execution_id"] == execution["id"]


def test_positions_with_trades_report_the_buy_steps_and_each_sell_as_text(store, clock, wallet_id, position,
                                                                          market):
    add_sell(store, wallet_id, [{"type": "take_profit", "percent": 20, "sell_pct": 50}])
    market.price = ENTRY_PRICE * Decimal("1.25")
    check_position(store, position["id"], selling(clock, market))
    [row] = store.positions_with_trades()
    assert list(row) == ["id", "mint", "status", "opened_at", "closed_at", "sol_spent", "entry_price_sol",
                         "initial_tokens_raw", "realized_pnl_sol", "close_reason", "buy_steps", "sells"]
    assert row["buy_steps"] == executions(store)[0]["steps_log"] and row["status"] == "OPEN"
    [trade] = sells(store)
    [sold] = row["sells"]
    assert datetime.fromisoformat(sold["at"]) == trade["created_at"]
    assert {key: value for key, value in sold.items() if key != "at"} == {
        "rule": "take_profit", "token_amount_raw": str(TOKENS // 2),
        **{key: format(trade[key], "f") for key in ("sol_amount", "price_sol", "fee_sol", "realized_pnl_sol")}}
    assert sold["price_sol"] == "0.000125000000000000"


# --- manual sells -----------------------------------------------------------

def test_manual_sell_sells_the_percentage_then_closes(store, clock, wallet_id, position, market):
    closed: list = []
    half = sell_manually(store, position["id"], Decimal(50), selling(clock, market, closed))
    assert (half["tokens_sold"], half["tokens_left"]) == (str(TOKENS // 2), str(TOKENS - TOKENS // 2))
    assert closed == [] and position_row(store, position["id"])["status"] == "OPEN"
    market.price = ENTRY_PRICE * 2
    rest = sell_manually(store, position["id"], Decimal(100), selling(clock, market, closed))
    assert rest["tokens_left"] == "0" and closed == [position["id"]]
    after = position_row(store, position["id"])
    assert (after["status"], after["close_reason"]) == ("CLOSED", "manual")
    assert [t["rule"] for t in sells(store)] == ["manual", "manual"]
    assert sum(t["realized_pnl_sol"] for t in sells(store)) == after["realized_pnl_sol"] > 0
    assert balance(store, wallet_id) - Decimal("10") == after["realized_pnl_sol"]
    assert len(executions(store)) == 1  # the buy's: a manual sell answers to no workflow
    with pytest.raises(Conflict, match="nothing left to sell"):
        sell_manually(store, position["id"], Decimal(100), selling(clock, market))


def test_a_position_sold_between_quote_and_sell_is_quoted_again(store, clock, position, market):
    other = selling(clock, market)
    deps = selling(clock, market)
    deps.price_source = source = Meanwhile(
        deps.price_source, lambda: sell_manually(store, position["id"], Decimal(50), other))
    sold = sell_manually(store, position["id"], Decimal(50), deps)
    left = TOKENS - TOKENS // 2  # after the other sell
    assert source.amounts == [TOKENS // 2, left // 2]
    assert (sold["tokens_sold"], sold["tokens_left"]) == (str(left // 2), str(left - left // 2))
    assert position_row(store, position["id"])["tokens_raw"] == left - left // 2
    assert [int(t["token_amount_raw"]) for t in sells(store)] == [TOKENS // 2, left // 2]


# --- the emergency stop and the circuit breaker -----------------------------

def test_halted_buys_are_rejected_with_the_reason_and_resume_buys_again(store, clock, wallet_id):
    add_buy(store, wallet_id, cooldown_seconds=0)
    store.set_halt(True, reason="exchange outage")
    outcome = buy_on(store, clock, "a")
    assert outcome["result"] == "REJECTED" and "exchange outage" in outcome["reason"]
    step = steps_of(store, outcome["execution_id"])[-1]
    assert step["step"] == "halt_check" and step["result"] == "rejected" and step["reason"] == "exchange outage"
    assert store.rows("trade_logs") == []
    store.set_halt(False)
    assert buy_on(store, clock, "b")["result"] == "EXECUTED"


def test_halting_sells_keeps_positions_open_and_refuses_manual_sells(store, clock, wallet_id):
    add_buy(store, wallet_id)
    position_id = UUID(buy_on(store, clock, "a")["position_id"])
    add_sell(store, wallet_id, [{"type": "stop_loss", "percent": -5}])
    market = MovingPrice(LOSING)
    store.set_halt(True, halt_sells=True, reason="frozen market")
    outcome = check_position(store, position_id, selling(clock, market))
    assert outcome["result"] == "halted" and "frozen market" in outcome["error"]
    assert store.position_status(position_id) == "OPEN"
    with pytest.raises(Conflict):
        sell_manually(store, position_id, Decimal(100), selling(clock, market))
    store.set_halt(True, reason="buys only")
    assert check_position(store, position_id, selling(clock, market))["result"] == "sold"


def test_a_winning_sell_ends_the_streak(store, clock, wallet_id):
    add_buy(store, wallet_id, cooldown_seconds=0)
    add_sell(store, wallet_id, [{"type": "stop_loss", "percent": -5}, {"type": "take_profit", "percent": 5}])
    first, second, third = (UUID(buy_on(store, clock, n)["position_id"]) for n in "abc")
    check_position(store, first, selling(clock, MovingPrice(LOSING)))
    check_position(store, second, selling(clock, MovingPrice(LOSING)))
    check_position(store, third, selling(clock, MovingPrice(ENTRY_PRICE * 2)))
    wallet = store.wallet(wallet_id)
    assert wallet["losing_streak"] == 0 and wallet["breaker_tripped_at"] is None


# --- the store invariants the engines rely on -------------------------------

def open_position(store, wallet_id: UUID, workflow_id: UUID, mint: str = MINT) -> UUID:
    return store.insert_position({"wallet_id": wallet_id, "mint": mint, "decimals": 6, "tokens_raw": 1000,
                                  "sol_spent": Decimal("0.5"), "price_sol": Decimal("0.0005"),
                                  "workflow_id": workflow_id, "at": None})


def order(store, wallet_id: UUID, side: str = "BUY", **values: Any) -> Row:
    return store.insert_order({"wallet_id": wallet_id, "side": side, "mint": MINT, "is_paper": False,
                               "in_amount": 500_000_000, **values})


def close(store, position_id: UUID) -> None:
    store.apply_sell(position_id, {"tokens_left": 0, "net_sol": Decimal("0.6"), "realized": Decimal("0.1"),
                                   "rule_key": "take_profit:20:-", "reason": "take_profit"})


@pytest.fixture
def ids(store, wallet_id) -> dict[str, UUID]:
    """A wallet with a BUY workflow and a prediction of its trigger."""
    return {"wallet": wallet_id, "buy": add_buy(store, wallet_id), "prediction": predict(store, TRIGGER, 0.9)}


def test_one_open_position_per_wallet_and_mint(store, ids):
    position = open_position(store, ids["wallet"], ids["buy"])
    with pytest.raises(SlotTaken):
        open_position(store, ids["wallet"], ids["buy"])
    other = open_position(store, ids["wallet"], ids["buy"], OTHER_MINT)
    close(store, position)
    assert store.position_status(position) == "CLOSED" and store.open_position_ids() == [other]
    again = open_position(store, ids["wallet"], ids["buy"])  # the slot is free once closed
    assert store.open_position_ids() == [other, again]


def test_one_open_sell_order_per_position(store, ids):
    position = open_position(store, ids["wallet"], ids["buy"])
    first = order(store, ids["wallet"], "SELL", position_id=position)
    with pytest.raises(SlotTaken):
        order(store, ids["wallet"], "SELL", position_id=position)
    assert store.open_order_for_position(position)["id"] == first["id"]
    assert store.finish_order(first["id"], ("PENDING", "SENT"), {"state": "FAILED", "error": "x"})["state"] == "FAILED"
    assert store.open_order_for_position(position) is None
    for _ in range(2):  # filled (paper) sells hold no slot
        order(store, ids["wallet"], "SELL", position_id=position, state="FILLED", is_paper=True)
    assert order(store, ids["wallet"], "SELL", position_id=position)["state"] == "PENDING"


def test_one_open_buy_per_wallet_and_mint_and_one_buy_per_prediction_and_workflow(store, ids):
    order(store, ids["wallet"], prediction_id=ids["prediction"], workflow_id=ids["buy"], mint=OTHER_MINT)
    with pytest.raises(SlotTaken):  # one open BUY per wallet and mint
        order(store, ids["wallet"], mint=OTHER_MINT)
    with pytest.raises(SlotTaken):  # one BUY per prediction and workflow, whatever its state
        order(store, ids["wallet"], prediction_id=ids["prediction"], workflow_id=ids["buy"], state="FILLED",
              is_paper=True)
    order(store, ids["wallet"], prediction_id=predict(store, TRIGGER, 0.9), workflow_id=ids["buy"])
    assert len(store.rows("orders")) == 2


def test_an_execution_is_logged_once_per_prediction_and_workflow(store, ids):
    execution = {"workflow_id": ids["buy"], "mint": MINT, "result": "REJECTED", "prediction_id": ids["prediction"]}
    assert store.insert_execution(execution) is not None
    assert store.insert_execution(execution) is None
    assert store.insert_execution({**execution, "result": "EXECUTED"}) is None
    unlinked = {"workflow_id": ids["buy"], "mint": MINT, "result": "ERROR"}  # no prediction: no slot
    assert store.insert_execution(unlinked) != store.insert_execution(unlinked)
    assert [row["result"] for row in executions(store)] == ["REJECTED", "ERROR", "ERROR"]


def test_a_failed_transaction_writes_nothing_and_a_savepoint_undoes_only_its_part(store, ids):
    wallet = ids["wallet"]
    with pytest.raises(RuntimeError), store.transaction():
        open_position(store, wallet, ids["buy"])
        store.debit(wallet, Decimal("1"))
        raise RuntimeError
    assert store.open_position_ids() == [] and store.rows("positions") == []
    assert balance(store, wallet) == Decimal("10")
    with store.transaction():
        kept = open_position(store, wallet, ids["buy"])
        with pytest.raises(SlotTaken), store.transaction():
            store.debit(wallet, Decimal("2"))
            open_position(store, wallet, ids["buy"], OTHER_MINT)
            open_position(store, wallet, ids["buy"])
        assert store.position_status(kept) == "OPEN"
        store.debit(wallet, Decimal("0.5"))
    assert store.open_position_ids() == [kept] and balance(store, wallet) == Decimal("9.5")
    open_position(store, wallet, ids["buy"], OTHER_MINT)  # its slot was freed by the savepoint's rollback


def test_rows_read_are_read_only_snapshots(store, ids):
    sell = add_sell(store, ids["wallet"], [{"type": "take_profit", "percent": 20}])
    position = open_position(store, ids["wallet"], ids["buy"])
    before = store.lock_open_position(position)
    store.record_price(position, Decimal("0.0007"), Decimal("0.0007"))
    store.apply_sell(position, {"tokens_left": 400, "net_sol": Decimal("0.3"), "realized": Decimal("0.01"),
                                "rule_key": "take_profit:20:50", "reason": None})
    assert (before["tokens_raw"], before["peak_price_sol"], before["fired_rules"]) == (1000, Decimal("0.0005"), [])
    with pytest.raises(TypeError):
        before["tokens_raw"] = 1  # type: ignore[index]
    after = store.check_target(position)
    assert (after["tokens_raw"], after["fired_rules"], after["sell_workflow_id"]) == (400, ["take_profit:20:50"],
                                                                                      sell)
    store.record_price(position, Decimal("0.0006"), Decimal("0.0006"))
    assert store.check_target(position)["peak_price_sol"] == Decimal("0.0007")  # never lowered
    with pytest.raises(TypeError):
        store.rows("positions")[0]["status"] = "CLOSED"  # type: ignore[index]
