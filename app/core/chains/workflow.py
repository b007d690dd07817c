"""The meaning of a workflow body as a whole: its chain fits its type and its buy amount fits too. Pure."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.core.chains.amounts import check_amounts
from app.core.chains.parse import parse_chain
from app.core.chains.paths import FieldPath, InvalidChain
from app.core.chains.types import BuyChain, Chain, WorkflowType


def check_workflow(
    workflow_type: WorkflowType | str, raw_chain: Any, amount_mode: str | None, amount_value: Decimal | None
) -> tuple[Chain | None, dict[FieldPath, list[str]]]:
    """The parsed chain (None if it is invalid) and every failing field of the body: amounts, then chain."""
    problems = check_amounts(workflow_type, amount_mode, amount_value)
    try:
        chain = parse_chain(workflow_type, raw_chain)
    except InvalidChain as exc:
        return None, {**problems, **exc.errors}
    return chain, {**problems, **_sizing_problems(chain, amount_value)}


def _sizing_problems(chain: Chain, amount_value: Decimal | None) -> dict[FieldPath, list[str]]:
    """Confidence sizing starts at most at the configured amount."""
    if not isinstance(chain, BuyChain) or chain.sizing is None or amount_value is None:
        return {}
    if chain.sizing.min_amount > amount_value:
        return {("chain", "sizing", "min_amount"): [
            f"Must be at most buy_amount_value ({format(amount_value, 'f')}): the amount at probability 1."]}
    return {}
