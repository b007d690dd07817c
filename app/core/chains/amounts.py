"""The buy amount of a workflow body: BUY workflows need a valid one, SELL workflows have none. Pure."""

from __future__ import annotations

from decimal import Decimal

from app.core.chains.paths import FieldPath
from app.core.chains.types import AmountMode, WorkflowType
from app.core.solana import MAX_SOL_AMOUNT, SOL_DECIMALS, decimal_places, sol_amount_problem

MAX_FIXED_BUY_SOL = MAX_SOL_AMOUNT


def check_amounts(
    workflow_type: WorkflowType | str,
    amount_mode: str | None,
    amount_value: Decimal | None,
) -> dict[FieldPath, list[str]]:
    """Cross-field rules of a workflow body: BUY needs a valid amount, SELL has none."""
    if WorkflowType(workflow_type) is WorkflowType.SELL:
        return {(key,): ["Only BUY workflows have a buy amount."]
                for key, value in (("buy_amount_mode", amount_mode), ("buy_amount_value", amount_value))
                if value is not None}
    errors: dict[FieldPath, list[str]] = {}
    if amount_mode is None:
        errors[("buy_amount_mode",)] = ["BUY workflows require buy_amount_mode (fixed or percent)."]
    problem = _buy_amount_value_problem(amount_mode, amount_value)
    if problem:
        errors[("buy_amount_value",)] = [problem]
    return errors


def positive_amount_problem(value: Decimal) -> str | None:
    """Why a buy amount is not usable as such (it must be above 0), or None."""
    return "Must be greater than 0." if value <= 0 else None


def _buy_amount_value_problem(amount_mode: str | None, value: Decimal | None) -> str | None:
    if value is None:
        return "BUY workflows require buy_amount_value."
    if problem := positive_amount_problem(value):
        return problem
    if amount_mode == AmountMode.PERCENT:
        return _percent_problem(value)
    if amount_mode == AmountMode.FIXED:
        return sol_amount_problem(value)
    return None


def _percent_problem(value: Decimal) -> str | None:
    """A percent of the balance is stored like a SOL amount (9 decimals) and is at most 100."""
    if value > 100:
        return "A percent of the balance must be at most 100."
    if decimal_places(value) > SOL_DECIMALS:
        return f"A percent of the balance has at most {SOL_DECIMALS} decimals."
    return None
