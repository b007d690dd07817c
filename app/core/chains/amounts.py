"""The buy amount of a workflow body: BUY workflows need a valid one, SELL workflows have none. Pure."""

from __future__ import annotations

from decimal import Decimal

from app.core.chains.paths import FieldPath
from app.core.chains.types import AmountMode, WorkflowType

MAX_FIXED_BUY_SOL = Decimal(10) ** 21 - 1  # what NUMERIC(30, 9) holds


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


def _buy_amount_value_problem(amount_mode: str | None, value: Decimal | None) -> str | None:
    if value is None:
        return "BUY workflows require buy_amount_value."
    if value <= 0:
        return "Must be greater than 0."
    if amount_mode == AmountMode.PERCENT:
        return "A percent of the balance must be at most 100." if value > 100 else None
    if amount_mode == AmountMode.FIXED:
        return _sol_amount_problem(value)
    return None


def _sol_amount_problem(value: Decimal) -> str | None:
    if value.normalize().as_tuple().exponent < -9:
        return "SOL amounts have at most 9 decimals (lamports)."
    if value > MAX_FIXED_BUY_SOL:
        return "Too large for a SOL amount."
    return None
