"""BUY decisions (SPEC §4) as pure functions: precheck, condition_step and size_buy, table-driven.

No database, no network: each row is a snapshot in and the expected verdict, reason and steps out.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from app.core.buy import (
    LAMPORT,
    BuyWorkflow,
    PredictionSignal,
    WalletState,
    condition_step,
    precheck,
    size_buy,
)
from app.core.chains import AmountMode, BuyChain, OnDemandCondition, Operator, PredictionTrigger
from app.core.states import BuyOutcome

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
MINT = "7GCihgDB8fe6KNjn2MYtkzZcRjQy3t9GHdC8uHYmW2hr"
TRIGGER_MODEL = 18
MIN_PROBABILITY = 0.7


def workflow(cooldown: int = 300, max_open: int = 3, mode: AmountMode = AmountMode.FIXED,
             value: str = "0.05", min_probability: float = MIN_PROBABILITY) -> BuyWorkflow:
    chain = BuyChain(PredictionTrigger(TRIGGER_MODEL, min_probability),
                     (OnDemandCondition(23, Operator.GTE, 0.6),))
    return BuyWorkflow(uuid.UUID(int=1), "wf", chain, mode, Decimal(value), cooldown, max_open)


def trigger_step(probability: float, result: str, model_id: int = TRIGGER_MODEL,
                 min_probability: float = MIN_PROBABILITY) -> dict[str, Any]:
    return {"step": "trigger", "model_id": model_id, "probability": probability,
            "min_probability": min_probability, "result": result}


def max_step(open_: int, max_: int, result: str) -> dict[str, Any]:
    return {"step": "max_positions_check", "open": open_, "max": max_, "result": result}


# --- precheck ----------------------------------------------------------------

# id, probability, model_id, min_probability, seconds since last EXECUTED buy (None: never), cooldown,
# holds_mint, open positions, max open positions -> verdict, reason substring (None: no reason), steps
PRECHECK_CASES = [
    # step 1: trigger threshold and model
    ("probability_below_min", 0.69, 18, 0.7, None, 300, False, 0, 3,
     BuyOutcome.IGNORED, "below min_probability", "ignored"),
    ("probability_exactly_min", 0.7, 18, 0.7, None, 300, False, 0, 3,
     None, None, "ok"),
    ("probability_above_min", 0.95, 18, 0.7, None, 300, False, 0, 3,
     None, None, "ok"),
    ("probability_one_min_one", 1.0, 18, 1.0, None, 300, False, 0, 3,
     None, None, "ok"),
    ("probability_zero_min_zero", 0.0, 18, 0.0, None, 300, False, 0, 3,
     None, None, "ok"),
    ("probability_just_below_min", 0.6999999, 18, 0.7, None, 300, False, 0, 3,
     BuyOutcome.IGNORED, "below min_probability", "ignored"),
    ("other_model_id_high_probability", 0.99, 19, 0.7, None, 300, False, 0, 3,
     BuyOutcome.IGNORED, "not this workflow's trigger model", "other_model"),
    # step 2: cooldown (elapsed < cooldown skips)
    ("no_previous_buy", 0.8, 18, 0.7, None, 300, False, 0, 3,
     None, None, "ok"),
    ("elapsed_equals_cooldown", 0.8, 18, 0.7, 300, 300, False, 0, 3,
     None, None, "ok"),
    ("elapsed_just_under_cooldown", 0.8, 18, 0.7, 299.999, 300, False, 0, 3,
     BuyOutcome.SKIPPED, "cooldown", "passed_trigger_only"),
    ("elapsed_well_under_cooldown", 0.8, 18, 0.7, 10, 300, False, 0, 3,
     BuyOutcome.SKIPPED, "cooldown: 10.0s of 300s", "passed_trigger_only"),
    ("elapsed_over_cooldown", 0.8, 18, 0.7, 301, 300, False, 0, 3,
     None, None, "ok"),
    ("cooldown_zero_same_instant", 0.8, 18, 0.7, 0, 0, False, 0, 3,
     None, None, "ok"),
    # a buy committed while this one waited for the wallet's lock may carry a later timestamp than this one's
    # clock: with no cooldown it never holds this one back
    ("cooldown_zero_last_buy_after_now", 0.8, 18, 0.7, -0.05, 0, False, 0, 3,
     None, None, "ok"),
    ("cooldown_last_buy_after_now", 0.8, 18, 0.7, -0.05, 300, False, 0, 3,
     BuyOutcome.SKIPPED, "cooldown", "passed_trigger_only"),
    # step 3: wallet already holds the mint
    ("holds_mint", 0.8, 18, 0.7, None, 300, True, 0, 3,
     BuyOutcome.SKIPPED, "already holds", "passed_trigger_only"),
    # step 4: max open positions
    ("open_positions_max_minus_one", 0.8, 18, 0.7, None, 300, False, 2, 3,
     None, None, "ok"),
    ("open_positions_at_max", 0.8, 18, 0.7, None, 300, False, 3, 3,
     BuyOutcome.REJECTED, "max_open_positions (3/3)", "max_rejected"),
    ("open_positions_above_max", 0.8, 18, 0.7, None, 300, False, 5, 3,
     BuyOutcome.REJECTED, "max_open_positions (5/3)", "max_rejected"),
    ("max_one_open_zero", 0.8, 18, 0.7, None, 300, False, 0, 1,
     None, None, "ok"),
    ("max_one_open_one", 0.8, 18, 0.7, None, 300, False, 1, 1,
     BuyOutcome.REJECTED, "max_open_positions (1/1)", "max_rejected"),
    # order of checks: threshold, cooldown, holding, max positions
    ("order_below_threshold_beats_everything", 0.1, 18, 0.7, 5, 300, True, 3, 3,
     BuyOutcome.IGNORED, "below min_probability", "ignored"),
    ("order_cooldown_before_holding_and_max", 0.8, 18, 0.7, 5, 300, True, 3, 3,
     BuyOutcome.SKIPPED, "cooldown", "passed_trigger_only"),
    ("order_holding_before_max", 0.8, 18, 0.7, None, 300, True, 3, 3,
     BuyOutcome.SKIPPED, "already holds", "passed_trigger_only"),
    ("order_cooldown_over_then_holding", 0.8, 18, 0.7, 300, 300, True, 3, 3,
     BuyOutcome.SKIPPED, "already holds", "passed_trigger_only"),
    ("order_cooldown_over_then_max", 0.8, 18, 0.7, 600, 300, False, 3, 3,
     BuyOutcome.REJECTED, "max_open_positions", "max_rejected"),
]


@pytest.mark.parametrize(
    ("probability", "model_id", "min_probability", "elapsed", "cooldown", "holds", "open_", "max_",
     "verdict", "reason", "steps_kind"),
    [pytest.param(*row[1:], id=row[0]) for row in PRECHECK_CASES],
)
def test_precheck(probability, model_id, min_probability, elapsed, cooldown, holds, open_, max_,
                  verdict, reason, steps_kind):
    wf = workflow(cooldown=cooldown, max_open=max_, min_probability=min_probability)
    wallet = WalletState(balance_sol=Decimal("1"), open_positions=open_, holds_mint=holds)
    signal = PredictionSignal(MINT, model_id, probability)
    last = None if elapsed is None else NOW - timedelta(seconds=elapsed)

    decision = precheck(wf, wallet, signal, last, NOW)

    assert decision.outcome is verdict
    if reason is None:
        if verdict is None:
            assert decision.reason is None
    else:
        assert reason in decision.reason
    assert decision.amount_sol is None
    passed = trigger_step(probability, "passed", model_id, min_probability)
    expected_steps = {
        "ignored": (trigger_step(probability, "below_threshold", model_id, min_probability),),
        "other_model": (trigger_step(probability, "other_model", model_id, min_probability),),
        "passed_trigger_only": (passed,),
        "ok": (passed, max_step(open_, max_, "passed")),
        "max_rejected": (passed, max_step(open_, max_, "rejected")),
    }[steps_kind]
    assert decision.steps == expected_steps


def test_precheck_cooldown_across_time_zones():
    """Elapsed time is measured between the two datetimes given, whatever their zone."""
    wf = workflow(cooldown=60)
    wallet = WalletState(Decimal("1"), 0, False)
    signal = PredictionSignal(MINT, TRIGGER_MODEL, 0.9)
    plus_two = timezone(timedelta(hours=2))
    last = (NOW - timedelta(seconds=59)).astimezone(plus_two)
    assert precheck(wf, wallet, signal, last, NOW).outcome is BuyOutcome.SKIPPED
    last = (NOW - timedelta(seconds=60)).astimezone(plus_two)
    assert precheck(wf, wallet, signal, last, NOW).outcome is None


# --- condition_step ----------------------------------------------------------

# id, index, operator, threshold, probability, error -> verdict, result, reason substring
CONDITION_CASES = [
    ("gte_equal", 0, Operator.GTE, 0.6, 0.6, None, None, "passed", None),
    ("gte_above", 0, Operator.GTE, 0.6, 0.61, None, None, "passed", None),
    ("gte_below", 0, Operator.GTE, 0.6, 0.59, None, BuyOutcome.REJECTED, "failed",
     "condition 1: 0.5900 ≥ 0.6 is false"),
    ("gt_equal", 0, Operator.GT, 0.6, 0.6, None, BuyOutcome.REJECTED, "failed", "condition 1: 0.6000 > 0.6 is false"),
    ("gt_above", 0, Operator.GT, 0.6, 0.61, None, None, "passed", None),
    ("gt_below", 0, Operator.GT, 0.6, 0.59, None, BuyOutcome.REJECTED, "failed", "> 0.6 is false"),
    ("lte_equal", 0, Operator.LTE, 0.3, 0.3, None, None, "passed", None),
    ("lte_above", 0, Operator.LTE, 0.3, 0.31, None, BuyOutcome.REJECTED, "failed",
     "condition 1: 0.3100 ≤ 0.3 is false"),
    ("lte_below", 0, Operator.LTE, 0.3, 0.29, None, None, "passed", None),
    ("lt_equal", 0, Operator.LT, 0.3, 0.3, None, BuyOutcome.REJECTED, "failed", "condition 1: 0.3000 < 0.3 is false"),
    ("lt_above", 0, Operator.LT, 0.3, 0.31, None, BuyOutcome.REJECTED, "failed", "< 0.3 is false"),
    ("lt_below", 0, Operator.LT, 0.3, 0.29, None, None, "passed", None),
    ("gte_threshold_zero_probability_zero", 0, Operator.GTE, 0.0, 0.0, None, None, "passed", None),
    ("lte_threshold_one_probability_one", 0, Operator.LTE, 1.0, 1.0, None, None, "passed", None),
    ("second_condition_passes", 1, Operator.GTE, 0.5, 0.9, None, None, "passed", None),
    ("second_condition_fails", 1, Operator.GTE, 0.5, 0.1, None, BuyOutcome.REJECTED, "failed",
     "condition 2: 0.1000 ≥ 0.5 is false"),
    ("error_first_condition", 0, Operator.GTE, 0.6, None, "model 23 unavailable", BuyOutcome.ERROR, "error",
     "condition 1 (model 23): model 23 unavailable"),
    ("error_second_condition", 1, Operator.LT, 0.6, None, "missing feature price_sol_mean_5m", BuyOutcome.ERROR,
     "error", "condition 2 (model 23): missing feature price_sol_mean_5m"),
    ("error_wins_over_probability", 0, Operator.GTE, 0.6, 0.99, "timeout", BuyOutcome.ERROR, "error",
     "condition 1 (model 23): timeout"),
]


@pytest.mark.parametrize(
    ("index", "operator", "threshold", "probability", "error", "verdict", "result", "reason"),
    [pytest.param(*row[1:], id=row[0]) for row in CONDITION_CASES],
)
def test_condition_step(index, operator, threshold, probability, error, verdict, result, reason):
    condition = OnDemandCondition(23, operator, threshold)

    decision = condition_step(index, condition, probability, error)

    assert decision.outcome is verdict
    if reason is None:
        assert decision.reason is None
    else:
        assert reason in decision.reason
    assert decision.amount_sol is None
    expected = {"step": f"condition_{index + 1}", "type": "on_demand_prediction", "model_id": 23,
                "operator": operator.value, "threshold": threshold, "result": result}
    if error is not None:
        expected["error"] = error
    else:
        expected["probability"] = probability
    assert decision.steps == (expected,)


# --- size_buy ------------------------------------------------------------------

# id, mode, value, balance -> verdict, amount (None when rejected), amount_sol logged in the step, reason substring
SIZE_CASES = [
    ("fixed_amount", AmountMode.FIXED, "0.05", "1", None, "0.05", "0.05", None),
    ("fixed_equals_balance", AmountMode.FIXED, "1.5", "1.5", None, "1.5", "1.5", None),
    ("fixed_one_lamport", AmountMode.FIXED, "0.000000001", "0.000000001", None,
     "0.000000001", "0.000000001", None),
    ("fixed_above_balance", AmountMode.FIXED, "2", "1.999999999", BuyOutcome.REJECTED, None, "2",
     "insufficient balance"),
    ("fixed_with_zero_balance", AmountMode.FIXED, "0.05", "0", BuyOutcome.REJECTED, None, "0.05",
     "insufficient balance"),
    ("percent_third_floored", AmountMode.PERCENT, "33.333333333", "1", None,
     "0.333333333", "0.333333333", None),
    ("percent_100_exact_balance", AmountMode.PERCENT, "100", "1.234567891", None,
     "1.234567891", "1.234567891", None),
    ("percent_100_of_one_sol", AmountMode.PERCENT, "100", "1", None, "1", "1.000000000", None),
    ("percent_50", AmountMode.PERCENT, "50", "3", None, "1.5", "1.500000000", None),
    ("percent_25_floors_sub_lamport", AmountMode.PERCENT, "25", "2.000000003", None,
     "0.5", "0.500000000", None),
    ("percent_10_of_11_lamports", AmountMode.PERCENT, "10", "0.000000011", None,
     "0.000000001", "0.000000001", None),
    ("percent_99_999999999_of_one_sol", AmountMode.PERCENT, "99.999999999", "1", None,
     "0.999999999", "0.999999999", None),
    ("percent_rounds_to_zero", AmountMode.PERCENT, "50", "0.000000001", BuyOutcome.REJECTED, None,
     "0", "0 lamports"),
    ("percent_one_lamport_of_one_sol", AmountMode.PERCENT, "0.0000001", "1", None,
     "0.000000001", "0.000000001", None),
    ("percent_tenth_lamport_rounds_to_zero", AmountMode.PERCENT, "0.00000001", "1", BuyOutcome.REJECTED, None,
     "0", "0 lamports"),
    ("percent_of_zero_balance", AmountMode.PERCENT, "100", "0", BuyOutcome.REJECTED, None, "0", "0 lamports"),
]


@pytest.mark.parametrize(
    ("mode", "value", "balance", "verdict", "amount", "amount_str", "reason"),
    [pytest.param(*row[1:], id=row[0]) for row in SIZE_CASES],
)
def test_size_buy(mode, value, balance, verdict, amount, amount_str, reason):
    wf = workflow(mode=mode, value=value)

    decision = size_buy(wf, Decimal(balance))

    assert decision.outcome is verdict
    if amount is None:
        assert decision.amount_sol is None
        assert reason in decision.reason
        result = "rejected"
    else:
        assert isinstance(decision.amount_sol, Decimal)
        assert decision.amount_sol == Decimal(amount)
        assert decision.amount_sol == decision.amount_sol.quantize(LAMPORT)  # a whole number of lamports
        assert decision.amount_sol <= Decimal(balance)
        assert decision.reason is None
        result = "passed"
    (step,) = decision.steps
    assert set(step) == {"step", "mode", "value", "balance_sol", "amount_sol", "result"}
    assert (step["step"], step["mode"], step["result"]) == ("amount_check", mode.value, result)
    # numbers are logged as decimal strings; compare their values (the notation is not part of the contract)
    assert isinstance(step["value"], str) and Decimal(step["value"]) == Decimal(value)
    assert isinstance(step["balance_sol"], str) and Decimal(step["balance_sol"]) == Decimal(balance)
    assert isinstance(step["amount_sol"], str) and Decimal(step["amount_sol"]) == Decimal(amount_str)


def test_size_buy_insufficient_reason_names_both_amounts():
    decision = size_buy(workflow(value="2"), Decimal("1.5"))
    assert decision.reason == "insufficient balance: need 2 SOL, have 1.5 SOL"


@pytest.mark.parametrize("percent", ["0.000000001", "1", "12.5", "33.333333333", "66.666666667", "99.9", "100"])
@pytest.mark.parametrize("balance", ["0.000000001", "0.123456789", "1", "7.777777777", "123456.789012345"])
def test_size_buy_percent_never_exceeds_balance_and_is_exact_floor(percent, balance):
    decision = size_buy(workflow(mode=AmountMode.PERCENT, value=percent), Decimal(balance))
    exact_lamports = Decimal(balance) * 10**9 * Decimal(percent) / 100
    floor_lamports = int(exact_lamports)  # positive: int() truncates == floor
    if floor_lamports == 0:
        assert decision.outcome is BuyOutcome.REJECTED
    else:
        assert decision.outcome is None
        assert decision.amount_sol == Decimal(floor_lamports) / 10**9
        assert decision.amount_sol <= Decimal(balance)
